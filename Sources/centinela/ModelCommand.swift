import ArgumentParser
import CentinelaCore
import Foundation

/// `centinela model`: the risk model definition as JSON, to read or to copy and tune.
struct ModelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Print a risk model's definition (JSON): every weight, half-life, share and band limit.",
        discussion: """
            Prints the model that serve and rescore would use (v2 unless --risk-model or
            CENTINELA_RISK_MODEL says otherwise). To tune one: write it to a file, give it an id of
            its own, change it, and pass the file with --risk-model (docs/risk-model.md).
            """)

    @OptionGroup var riskModel: RiskModelOptions

    func run() async throws {
        try await failingClearly {
            let model = try riskModel.resolve(Environment())
            FileHandle.standardOutput.write(model.encodedJSON)
            FileHandle.standardOutput.write(Data("\n".utf8))
        }
    }
}
