# Installs the Debian packages the build, the tests and the examples need, when missing.
# Sourced by scripts/test.sh and scripts/example.sh; safe to run again.
packages=()
command -v objcopy >/dev/null 2>&1 || packages+=(binutils)     # independent Intel HEX reader in tests
command -v cc >/dev/null 2>&1 || packages+=(gcc)                # builds the compiled engine's automata
[ -e /usr/include/pcap/pcap.h ] || packages+=(libpcap-dev)      # eric writes and reads alert captures
[ -e /usr/include/zlib.h ] || packages+=(zlib1g-dev)             # kdump-compressed dumps: zlib,
[ -e /usr/include/lzo/lzo1x.h ] || packages+=(liblzo2-dev)       # lzo,
[ -e /usr/include/snappy-c.h ] || packages+=(libsnappy-dev)      # snappy
[ -e /usr/include/zstd.h ] || packages+=(libzstd-dev)            # and zstd pages
command -v tshark >/dev/null 2>&1 || packages+=(tshark)          # independent check of the captures in tests
[ -x /usr/sbin/rsyslogd ] || packages+=(rsyslog)               # a real collector for eric listen --syslog in tests
if [ ${#packages[@]} -gt 0 ]; then
    echo "installing: ${packages[*]}" >&2
    apt-get update -qq
    echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections 2>/dev/null || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=900 "${packages[@]}" >&2
fi
