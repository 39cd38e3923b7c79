import Foundation
import Logging
import Synchronization

/// How the process logs: level and line format, from `LOG_LEVEL` and `LOG_FORMAT`.
public struct LogConfiguration: Sendable, Equatable {
    public enum Format: String, Sendable, CaseIterable {
        /// Human-readable lines for a terminal.
        case text
        /// One JSON object per line, for log collectors.
        case json
    }

    public var level: Logger.Level
    public var format: Format

    public init(level: Logger.Level = .info, format: Format = .text) {
        self.level = level
        self.format = format
    }

    public static func parseLevel(_ text: String, source: String) throws(ConfigurationError) -> Logger.Level {
        guard let level = Logger.Level(rawValue: text.lowercased()) else {
            throw ConfigurationError(
                source: source,
                message: "must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")), not '\(text)'")
        }
        return level
    }

    public static func parseFormat(_ text: String, source: String) throws(ConfigurationError) -> Format {
        guard let format = Format(rawValue: text.lowercased()) else {
            throw ConfigurationError(source: source, message: "must be text or json, not '\(text)'")
        }
        return format
    }

    /// Installs the process-wide log handler. Call once, before anything logs.
    public func bootstrap() {
        let level = self.level
        switch format {
        case .text:
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
        case .json:
            LoggingSystem.bootstrap { label in
                JSONLogHandler(label: label, logLevel: level, sink: .standardError)
            }
        }
    }
}

/// Writes each log record as one JSON object on one line:
/// `{"level":"info","logger":"centinela","message":"…","ts":"2026-…Z", …metadata}`.
public struct JSONLogHandler: LogHandler {
    /// Where lines go; one lock per sink keeps lines from different threads whole.
    public final class Sink: Sendable {
        private let write: Mutex<@Sendable (String) -> Void>

        public init(_ write: @escaping @Sendable (String) -> Void) {
            self.write = Mutex(write)
        }

        func emit(_ line: String) {
            write.withLock { $0(line) }
        }

        public static let standardError = Sink { line in
            FileHandle.standardError.write(Data(line.utf8))
        }
    }

    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    let label: String
    let sink: Sink

    public init(label: String, logLevel: Logger.Level = .info, sink: Sink) {
        self.label = label
        self.logLevel = logLevel
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [String: Logger.MetadataValue] = metadata
        if let extra = event.metadata { fields.merge(extra) { _, new in new } }
        var object: [String: Any] = fields.mapValues(Self.jsonValue)
        object["ts"] = Self.timestamp()
        object["level"] = event.level.rawValue
        object["logger"] = label
        object["message"] = "\(event.message)"
        if event.level >= .error {
            object["source"] = "\(event.file):\(event.line)"
        }
        guard
            let data = try? JSONSerialization.data(
                withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        else { return }
        sink.emit(String(decoding: data, as: UTF8.self) + "\n")
    }

    static func jsonValue(_ value: Logger.MetadataValue) -> Any {
        switch value {
        case .string(let string): string
        case .stringConvertible(let convertible): convertible.description
        case .array(let values): values.map(jsonValue)
        case .dictionary(let dictionary): dictionary.mapValues(jsonValue)
        }
    }

    static func timestamp() -> String {
        // e.g. 2026-11-30T04:50:00.123Z: UTC, millisecond precision.
        Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(Date.now)
    }
}
