-- Wireshark dissector for ERIC alert records (docs/protocol.md): UDP port 17746.
--   wireshark -X lua_script:tools/wireshark/eric.lua alerts.pcap
--   tshark -X lua_script:tools/wireshark/eric.lua -r alerts.pcap -T fields -e eric.value
local eric = Proto("eric", "ERIC integrity checker alert")

local kinds = { [1] = "alert", [2] = "summary" }
local origins = { [0] = "sweep", [1] = "follow-up alert", [2] = "follow-up run, no alert" }
local f = eric.fields
f.magic = ProtoField.string("eric.magic", "Magic")
f.version = ProtoField.uint8("eric.version", "Protocol version")
f.type = ProtoField.uint8("eric.type", "Record type", base.DEC, kinds)
f.device = ProtoField.uint16("eric.device", "Device id")
f.sequence = ProtoField.uint32("eric.sequence", "Sequence number")
f.automaton = ProtoField.uint16("eric.automaton", "Automaton id")
f.name = ProtoField.uint16("eric.name", "Alert name id")
f.value = ProtoField.uint64("eric.value", "Alert value (summary: alerts)", base.HEX)
f.page = ProtoField.uint64("eric.page", "Page physical address (summary: pages)", base.HEX)
f.cycles = ProtoField.uint64("eric.cycles", "MPU cycles")
f.time = ProtoField.uint64("eric.time", "Device time stamp (LM32 cycles)")
f.runs = ProtoField.uint32("eric.runs", "MPU runs (summary)")
f.origin = ProtoField.uint32("eric.origin", "Origin (alert)", base.DEC, origins)
f.faults = ProtoField.uint32("eric.faults", "Faulted runs (summary)")

function eric.dissector(buffer, pinfo, tree)
    if buffer:len() < 56 or buffer(0, 4):string() ~= "ERIC" then return 0 end
    pinfo.cols.protocol = "ERIC"
    local kind = buffer(5, 1):uint()
    local subtree = tree:add(eric, buffer(0, 56), "ERIC " .. (kinds[kind] or "record"))
    subtree:add(f.magic, buffer(0, 4))
    subtree:add(f.version, buffer(4, 1))
    subtree:add(f.type, buffer(5, 1))
    subtree:add(f.device, buffer(6, 2))
    subtree:add(f.sequence, buffer(8, 4))
    subtree:add(f.automaton, buffer(12, 2))
    subtree:add(f.name, buffer(14, 2))
    subtree:add(f.value, buffer(16, 8))
    subtree:add(f.page, buffer(24, 8))
    subtree:add(f.cycles, buffer(32, 8))
    subtree:add(f.time, buffer(40, 8))
    if kind == 1 then subtree:add(f.origin, buffer(48, 4)) else subtree:add(f.runs, buffer(48, 4)) end
    subtree:add(f.faults, buffer(52, 4))
    if kind == 1 then
        local origin = buffer(48, 4):uint()
        pinfo.cols.info = string.format("%s 0x%x on page 0x%x (automaton %d)", origin == 0 and "alert" or (origins[origin] or "origin " .. origin),
            buffer(16, 8):uint64():tonumber(), buffer(24, 8):uint64():tonumber(), buffer(12, 2):uint())
    else
        pinfo.cols.info = string.format("summary: %d alerts, %d pages", buffer(16, 8):uint64():tonumber(), buffer(24, 8):uint64():tonumber())
    end
    return 56
end

DissectorTable.get("udp.port"):add(17746, eric)
