import Foundation
import GDBRemote
import LM32Sim
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite struct SessionTests {
    static func be32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> UInt32(24 - 8 * $0)) } }

    /// 0x00 mvi r1, 5 ; 0x04 addi r1, r1, 1 ; 0x08 bi 0x04 (forever) ; data word 0x11223344 at 0x100.
    static func machine() throws -> (GDBSession, LM32CPU) {
        let bus = Bus()
        let ram = Memory(size: 0x1000)
        try bus.attach(ram, at: 0, size: 0x1000, name: "ram")
        try bus.load([0x3401_0005, 0x3421_0001, 0xe3ff_ffff].flatMap(be32), at: 0)
        try bus.load([0x11, 0x22, 0x33, 0x44], at: 0x100)
        let cpu = LM32CPU(bus: bus)
        cpu.hostCalls = true
        return (GDBSession(target: LM32DebugTarget(cpu: cpu)), cpu)
    }

    func reply(_ session: GDBSession, _ packet: String) -> String {
        guard case .reply(let text) = session.handle(Array(packet.utf8)) else { return "<not a reply>" }
        return text
    }

    @Test func registersFollowGDBsLM32Layout() throws {
        let (session, cpu) = try Self.machine()
        cpu.registers[1] = 0xdead_beef
        cpu.registers[31] = 0x1234
        cpu.pc = 0x40
        cpu.im = 0x8000_0001
        let g = reply(session, "g")
        #expect(g.count == 39 * 8)                                   // 156 bytes, as `maint print remote-registers`
        #expect(g.dropFirst(8).prefix(8) == "deadbeef")              // r1, big-endian
        #expect(g.dropFirst(31 * 8).prefix(8) == "00001234")         // ba
        #expect(g.dropFirst(32 * 8).prefix(8) == "00000040")         // PC at byte 128
        #expect(g.dropFirst(37 * 8).prefix(8) == "80000001")         // IM at byte 148
        #expect(reply(session, "p20") == "00000040")
        #expect(reply(session, "P20=00000008") == "OK")
        #expect(cpu.pc == 8)
        #expect(reply(session, "P3=0000002a") == "OK" && cpu.registers[3] == 42)
        var all = Array(repeating: Character("0"), count: 39 * 8)
        all.replaceSubrange(2 * 8..<3 * 8, with: "0000abcd")         // r2
        all.replaceSubrange(36 * 8..<37 * 8, with: "00000002")       // IE: EIE
        #expect(reply(session, "G" + String(all)) == "OK")
        #expect(cpu.registers[2] == 0xabcd && cpu.ie == 2 && cpu.pc == 0)
    }

    /// A debugger that sets pc to a misaligned address and steps (Fixtures/bad-inputs/
    /// gdb-step-misaligned-pc.py crashed the stub): the fetch is an instruction bus error,
    /// taken as the CPU takes it (ea = the pc, pc = EBA + 2 x 32), and in the gdb-simulator
    /// environment the stop is reported as SIGSEGV/SIGBUS (here SIGBUS: misaligned).
    @Test func steppingFromAMisalignedPCIsABusError() throws {
        let (session, cpu) = try Self.machine()
        cpu.eba = 0x800
        #expect(reply(session, "P20=00000002") == "OK")
        #expect(session.handle(Array("s".utf8)) == .step)
        #expect(session.target.step() == .busError(misaligned: true))
        #expect(cpu.pc == 0x840 && cpu.registers[30] == 2 && cpu.lastException == .instructionBusError)
    }

    @Test func memoryReadsAndWrites() throws {
        let (session, cpu) = try Self.machine()
        #expect(reply(session, "m100,4") == "11223344")
        #expect(reply(session, "M102,2:beef") == "OK")
        #expect(reply(session, "m100,4") == "1122beef")
        #expect(session.handle(Array("X104,2:".utf8) + [0x7d, 0x00]) == .reply("OK"))   // raw bytes 0x7d 0x00
        #expect(reply(session, "m104,2") == "7d00")
        #expect(reply(session, "m2000,4") == "E01")                  // unmapped
        _ = cpu
    }

    @Test func softwareBreakpointsAreHiddenAndStopTheCPU() throws {
        let (session, cpu) = try Self.machine()
        #expect(reply(session, "Z0,4,4") == "OK")
        #expect(reply(session, "m0,8") == "3401000534210001")        // the program, not the break
        #expect(session.handle(Array("c".utf8)) == .resume)
        #expect(session.target.resume(budget: 100) == .trap)
        #expect(cpu.pc == 4 && cpu.registers[1] == 5)
        #expect(reply(session, "z0,4,4") == "OK")
        #expect(session.target.step() == .trap)
        #expect(cpu.pc == 8 && cpu.registers[1] == 6)
        #expect(reply(session, "z0,4,4") == "E01")                   // not inserted any more
        #expect(reply(session, "Z1,4,4") == "")                      // hardware breakpoints: not offered
        // Writing under a breakpoint changes the instruction it will restore.
        #expect(reply(session, "Z0,0,4") == "OK")
        #expect(reply(session, "M0,4:34010007") == "OK")
        #expect(reply(session, "m0,4") == "34010007")
        #expect(reply(session, "z0,0,4") == "OK")
        cpu.pc = 0
        #expect(session.target.step() == .trap && cpu.registers[1] == 7)
    }

    @Test func malformedPacketsGetErrorsNotCrashes() throws {
        let (session, _) = try Self.machine()
        for packet in ["mzz,4", "m0", "m0,zz", "M0,4:abc", "M0,4:abcd", "G12", "P99=00000000", "P1=0011", "p", "pzz",
                       "Z0,xyz,4", "Z0,4", "X0,2:a", "sxyz", "czz"] {
            #expect(reply(session, packet) == "E01", "\(packet)")
        }
        #expect(reply(session, "") == "")
        #expect(reply(session, "vCont?") == "")                     // unsupported: the empty reply
        var random = SystemRandomNumberGenerator()
        for _ in 0..<2000 {                                          // fuzz: any reply is fine, no trap
            let length = Int.random(in: 0..<24, using: &random)
            var packet = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
            if let first = packet.first, [UInt8(ascii: "s"), UInt8(ascii: "c"), UInt8(ascii: "k"), UInt8(ascii: "D")].contains(first) { packet[0] = UInt8(ascii: "m") }
            _ = session.handle(packet)
        }
    }

    /// A debugger on the other end of a socket pair: packets, acks, and Ctrl-C while running.
    @Test func servesAConnectionAndStopsOnCtrlC() throws {
        let (session, cpu) = try Self.machine()
        var pair: [Int32] = [0, 0]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0)
        let stub = FileDescriptorTransport(descriptor: pair[0])
        let debugger = FileDescriptorTransport(descriptor: pair[1])
        // The stub side is only touched by the serving thread until `done`.
        final class Box: @unchecked Sendable {
            let session: GDBSession, stub: FileDescriptorTransport
            var end: SessionEnd?
            init(_ session: GDBSession, _ stub: FileDescriptorTransport) { self.session = session; self.stub = stub }
        }
        let box = Box(session, stub)
        let done = DispatchSemaphore(value: 0)
        Thread { box.end = serve(box.session, over: box.stub, slice: 1000); done.signal() }.start()

        func exchange(_ packet: String, expect: String) {
            debugger.write(framePacket(packet))
            var received: [UInt8] = []
            let wanted = Array("+".utf8) + framePacket(expect)
            while received.count < wanted.count {
                let more = debugger.read()
                if more.isEmpty { break }
                received += more
            }
            #expect(String(decoding: received, as: UTF8.self) == String(decoding: wanted, as: UTF8.self), "\(packet)")
        }
        exchange("?", expect: "S05")
        exchange("p1", expect: "00000000")
        debugger.write(Array("$g#00".utf8))                           // a bad checksum asks for a resend
        #expect(debugger.read() == Array("-".utf8))
        debugger.write(framePacket("c"))
        #expect(debugger.read() == Array("+".utf8))
        Thread.sleep(forTimeInterval: 0.05)
        debugger.write([0x03])
        var stop: [UInt8] = []
        while stop.count < framePacket("S02").count { stop += debugger.read() }
        #expect(stop == framePacket("S02"))
        #expect(cpu.instructions > 1000 && cpu.registers[1] > 5)      // it did run
        debugger.write(framePacket("D"))
        done.wait()
        #expect(box.end == .detached)
    }
}
