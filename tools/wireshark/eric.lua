-- Wireshark dissector for ERIC alert records (docs/protocol.md): UDP port 17746; and for the
-- control channel's messages and answers (docs/protocol.md, "Control"): UDP port 17747.
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
-- Version 2 (a board with a device key): the trailer. The tag is checked by eric listen --key.
f.boot_nonce = ProtoField.uint64("eric.boot_nonce", "Boot nonce", base.HEX)
f.tag = ProtoField.bytes("eric.tag", "Tag (HMAC-SHA256/128)")

function eric.dissector(buffer, pinfo, tree)
    if buffer:len() < 56 or buffer(0, 4):string() ~= "ERIC" then return 0 end
    pinfo.cols.protocol = "ERIC"
    local kind = buffer(5, 1):uint()
    local version = buffer(4, 1):uint()
    local size = (version == 2 and buffer:len() >= 80) and 80 or 56
    local subtree = tree:add(eric, buffer(0, size), "ERIC " .. (kinds[kind] or "record") .. (size == 80 and " (authenticated)" or ""))
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
    if size == 80 then
        subtree:add(f.boot_nonce, buffer(56, 8))
        subtree:add(f.tag, buffer(64, 16))
    end
    if kind == 1 then
        local origin = buffer(48, 4):uint()
        pinfo.cols.info = string.format("%s 0x%x on page 0x%x (automaton %d)", origin == 0 and "alert" or (origins[origin] or "origin " .. origin),
            buffer(16, 8):uint64():tonumber(), buffer(24, 8):uint64():tonumber(), buffer(12, 2):uint())
    else
        pinfo.cols.info = string.format("summary: %d alerts, %d pages", buffer(16, 8):uint64():tonumber(), buffer(24, 8):uint64():tonumber())
    end
    return size
end

DissectorTable.get("udp.port"):add(17746, eric)

-- The control channel: a request (16 bytes, then LOAD's bundle bytes or READ's address) or an
-- answer (20 bytes; READ and MAP then carry evidence, and from a board with a key, version 2,
-- the boot nonce and the tag).
local control = Proto("eric_control", "ERIC control channel")
local messages = { [0x10] = "LOAD", [0x11] = "COMMIT", [0x12] = "START", [0x13] = "SHUTDOWN", [0x14] = "STATUS", [0x15] = "MODE",
                   [0x16] = "READ", [0x17] = "MAP", [0x18] = "DIGEST" }
local results = { [0] = "installed", [1] = "malformed bundle", [2] = "another device key", [3] = "tag does not hold",
                  [4] = "version not newer", [5] = "busy", [6] = "no device key", [7] = "bad table" }
local c = control.fields
c.type = ProtoField.uint8("eric_control.type", "Type", base.HEX)
c.answer = ProtoField.bool("eric_control.answer", "Answer")
c.sequence = ProtoField.uint32("eric_control.sequence", "Sequence number")
c.argument = ProtoField.uint32("eric_control.argument", "Argument (LOAD: offset; COMMIT: length)")
c.data = ProtoField.bytes("eric_control.data", "Bundle bytes")
c.result = ProtoField.uint32("eric_control.result", "Result")
c.version = ProtoField.uint32("eric_control.set_version", "Sealed set in place")
c.address = ProtoField.uint64("eric_control.address", "Host physical address", base.HEX)
c.block = ProtoField.bytes("eric_control.block", "Host memory (1 KiB)")
c.digest = ProtoField.bytes("eric_control.digest", "SHA-256 of the page")
c.range_end = ProtoField.uint64("eric_control.range_end", "Range end (exclusive)", base.HEX)
c.boot_nonce = ProtoField.uint64("eric_control.boot_nonce", "Boot nonce", base.HEX)
c.tag = ProtoField.bytes("eric_control.tag", "Tag (HMAC-SHA256/128)")
c.request_tag = ProtoField.bytes("eric_control.request_tag", "Request tag (HMAC-SHA256/128, request key)")
local reads = { [0] = "done", [1] = "not wholly in host memory", [2] = "not a block's (READ) or page's (DIGEST) start", [3] = "refused: the request's tag does not hold" }

function control.dissector(buffer, pinfo, tree)
    if buffer:len() < 16 or buffer(0, 4):string() ~= "ERIC" then return 0 end
    pinfo.cols.protocol = "ERIC control"
    local kind = buffer(5, 1):uint()
    local answer = kind >= 0x80
    local name = messages[answer and kind - 0x80 or kind] or string.format("type 0x%x", kind)
    local subtree = tree:add(control, buffer(), "ERIC control " .. name .. (answer and " answer" or ""))
    subtree:add(c.type, buffer(5, 1))
    subtree:add(c.answer, answer)
    subtree:add(c.sequence, buffer(8, 4))
    if answer and buffer:len() >= 20 then
        subtree:add(c.result, buffer(12, 4))
        subtree:add(c.version, buffer(16, 4))
        local result = buffer(12, 4):uint()
        local said = (kind == 0x91) and (results[result] or ("refused, reason " .. result)) or tostring(result)
        pinfo.cols.info = string.format("%s answer: %s (set version %d)", name, said, buffer(16, 4):uint())
        local evidence = buffer:len() - 20 - (buffer(4, 1):uint() == 2 and 24 or 0)
        if (kind == 0x96 or kind == 0x97 or kind == 0x98) and evidence >= 8 then
            subtree:add(c.address, buffer(20, 8))
            if kind == 0x96 then
                if evidence >= 8 + 1024 then subtree:add(c.block, buffer(28, 1024)) end
                pinfo.cols.info = string.format("READ answer: 0x%x %s", buffer(20, 8):uint64():tonumber(), reads[result] or tostring(result))
            elseif kind == 0x98 then
                if evidence >= 40 then subtree:add(c.digest, buffer(28, 32)) end
                pinfo.cols.info = string.format("DIGEST answer: 0x%x %s", buffer(20, 8):uint64():tonumber(), reads[result] or tostring(result))
            elseif evidence >= 16 then
                subtree:add(c.range_end, buffer(28, 8))
                pinfo.cols.info = string.format("MAP answer: %d ranges; 0x%x-0x%x", result, buffer(20, 8):uint64():tonumber(), buffer(28, 8):uint64():tonumber())
            end
            if buffer(4, 1):uint() == 2 and buffer:len() >= 20 + evidence + 24 then
                subtree:add(c.boot_nonce, buffer(20 + evidence, 8))
                subtree:add(c.tag, buffer(28 + evidence, 16))
            end
        end
    elseif (kind == 0x16 or kind == 0x18) and buffer:len() >= 24 then
        subtree:add(c.address, buffer(16, 8))
        if buffer:len() >= 40 then subtree:add(c.request_tag, buffer(24, 16)) end
        pinfo.cols.info = string.format("%s 0x%x", name, buffer(16, 8):uint64():tonumber())
    elseif kind == 0x17 and buffer:len() >= 32 then
        subtree:add(c.argument, buffer(12, 4))
        subtree:add(c.request_tag, buffer(16, 16))
        pinfo.cols.info = string.format("MAP %d", buffer(12, 4):uint())
    else
        subtree:add(c.argument, buffer(12, 4))
        if buffer:len() > 16 then subtree:add(c.data, buffer(16)) end
        pinfo.cols.info = string.format("%s %d", name, buffer(12, 4):uint())
    end
    return buffer:len()
end

DissectorTable.get("udp.port"):add(17747, control)
