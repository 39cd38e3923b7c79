import Foundation
import Testing

@testable import CentinelaStore

#if canImport(Glibc)
import Glibc
#endif

/// The programs the embedded cluster runs (pg_ctl, and through it the PostgreSQL server, which
/// lives on) inherit no descriptor of this process but standard input, output and error.
@Suite struct HostCommandTests {
    @Test func aSpawnedProgramInheritsNoOpenDescriptor() async throws {
        // Descriptors without close-on-exec, as SwiftNIO's accepted sockets are.
        var pair: [Int32] = [-1, -1]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0)
        defer {
            close(pair[0])
            close(pair[1])
        }
        let result = try await HostCommand(executable: "/bin/ls", arguments: ["/proc/self/fd"], user: nil).run()
        #expect(result.status == 0, "\(result.output)")
        // ls's own: 0, 1, 2 and the folder it reads.
        let inherited = Set(result.output.split(separator: "\n").compactMap { Int32($0) }).subtracting([0, 1, 2])
        #expect(inherited.count <= 1 && !inherited.contains(pair[0]) && !inherited.contains(pair[1]), "\(inherited.sorted())")
    }
}
