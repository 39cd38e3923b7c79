import CentinelaHTTP
import Foundation
import Logging
import Synchronization
import Testing

@Suite struct JSONLogHandlerTests {
    final class Lines: Sendable {
        let lines = Mutex<[String]>([])
        var all: [String] { lines.withLock { $0 } }
    }

    @Test func writesOneJSONObjectPerLineWithMetadata() throws {
        let captured = Lines()
        let sink = JSONLogHandler.Sink { line in captured.lines.withLock { $0.append(line) } }
        var logger = Logger(label: "centinela") { label in JSONLogHandler(label: label, logLevel: .info, sink: sink) }
        logger[metadataKey: "request_id"] = "r-1"
        logger.info("report \"received\"\nsecond line", metadata: ["facility": "f-9", "count": "\(3)"])
        logger.debug("below the level")

        let lines = captured.all
        #expect(lines.count == 1)
        let line = try #require(lines.first)
        #expect(line.hasSuffix("\n"))
        #expect(line.dropLast().contains("\n") == false)
        let object = try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["message"] as? String == "report \"received\"\nsecond line")
        #expect(object["level"] as? String == "info")
        #expect(object["logger"] as? String == "centinela")
        #expect(object["request_id"] as? String == "r-1")
        #expect(object["facility"] as? String == "f-9")
        #expect((object["ts"] as? String)?.hasSuffix("Z") == true)
    }

    @Test func parsesLevelsAndFormatsOrExplainsTheMistake() throws {
        #expect(try LogConfiguration.parseLevel("DEBUG", source: "LOG_LEVEL") == .debug)
        #expect(try LogConfiguration.parseFormat("json", source: "LOG_FORMAT") == .json)
        #expect(throws: ConfigurationError.self) { try LogConfiguration.parseLevel("loud", source: "LOG_LEVEL") }
        #expect(throws: ConfigurationError(source: "LOG_FORMAT", message: "must be text or json, not 'xml'")) {
            try LogConfiguration.parseFormat("xml", source: "LOG_FORMAT")
        }
    }
}
