import CentinelaCore
import Foundation
import Testing

/// `centinela model`: the definition to read or to copy and tune, loadable as it is printed.
@Suite struct ModelCommandTests {
    @Test func printsTheModelInForceAsALoadableDefinition() async throws {
        let v2 = try await CommandProcess.run(["model"], environment: ["CENTINELA_RISK_MODEL": nil])
        #expect(v2.status == 0, "\(v2.error)")
        #expect(try RiskModel.load(json: Data(v2.output.utf8)) == .v2)
        let v1 = try await CommandProcess.run(["model", "--risk-model", "v1"])
        #expect(try RiskModel.load(json: Data(v1.output.utf8)) == .v1)
        // The environment's choice, as serve and rescore would read it.
        let fromEnvironment = try await CommandProcess.run(["model"], environment: ["CENTINELA_RISK_MODEL": "v1"])
        #expect(try RiskModel.load(json: Data(fromEnvironment.output.utf8)) == .v1)

        // Tuned: loads under its own id; a copy still calling itself v2 is refused, in one line.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("centinela-model-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let copy = folder.appendingPathComponent("v2.json").path
        try v2.output.replacingOccurrences(of: #""allowanceBits" : 10"#, with: #""allowanceBits" : 12"#).write(
            toFile: copy, atomically: true, encoding: .utf8)
        let refused = try await CommandProcess.run(["model", "--risk-model", copy])
        #expect(refused.status == 1 && refused.output.isEmpty)
        #expect(refused.error.hasPrefix("centinela: error: --risk-model: ") && refused.error.contains("built-in"), "\(refused.error)")
        #expect(refused.error.split(separator: "\n").count == 1)
        let tuned = folder.appendingPathComponent("tuned.json").path
        try String(decoding: Data(contentsOf: URL(fileURLWithPath: copy)), as: UTF8.self)
            .replacingOccurrences(of: #""id" : "v2""#, with: #""id" : "v2-local""#).write(toFile: tuned, atomically: true, encoding: .utf8)
        let loaded = try await CommandProcess.run(["model", "--risk-model", tuned])
        #expect(loaded.status == 0, "\(loaded.error)")
        #expect(try RiskModel.load(json: Data(loaded.output.utf8)).surprise?.allowanceBits == 12)
        #expect(try await CommandProcess.run(["model", "--risk-model", folder.appendingPathComponent("absent.json").path]).status == 1)
    }
}
