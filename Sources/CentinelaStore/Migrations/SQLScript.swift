/// Splits a migration file into the statements PostgreSQL's extended protocol can run one at a time.
///
/// PostgresNIO speaks only the extended query protocol, which takes a single statement per query,
/// while a migration file is a plain SQL script a DBA can also feed to `psql`. The splitter knows
/// just enough of PostgreSQL's lexical rules to find the real statement boundaries: semicolons
/// inside quotes, quoted identifiers, dollar-quoted bodies (`$$ … $$`, `$tag$ … $tag$`), escape
/// strings (`E'…'`), line comments and nested block comments do not end a statement.
struct SQLScript: Sendable {
    struct Statement: Equatable, Sendable {
        /// The statement's text, without the terminating semicolon.
        var sql: String
        /// 1-based line of the file on which the statement starts, for error messages.
        var line: Int
    }

    enum SplitError: Error, Equatable {
        case unterminated(construct: String, line: Int)
    }

    let statements: [Statement]

    init(_ text: String) throws(SplitError) {
        self.statements = try Self.split(Array(text.unicodeScalars))
    }

    private static func split(_ s: [Unicode.Scalar]) throws(SplitError) -> [Statement] {
        var statements: [Statement] = []
        var current = String.UnicodeScalarView()
        var line = 1
        var startLine: Int? = nil
        var hasCode = false  // the current statement holds more than whitespace and comments
        var i = 0

        func append(_ scalar: Unicode.Scalar) {
            current.append(scalar)
            if scalar == "\n" { line += 1 }
        }
        func markCode() {
            if !hasCode {
                hasCode = true
                startLine = line
            }
        }

        while i < s.count {
            let c = s[i]
            let next: Unicode.Scalar? = i + 1 < s.count ? s[i + 1] : nil

            if c == "-" && next == "-" {
                // Line comment: kept in the text (harmless), never ends a statement.
                while i < s.count && s[i] != "\n" {
                    append(s[i])
                    i += 1
                }
                continue
            }
            if c == "/" && next == "*" {
                let opened = line
                var depth = 0
                repeat {
                    if i + 1 < s.count && s[i] == "/" && s[i + 1] == "*" {
                        depth += 1
                        append(s[i])
                        append(s[i + 1])
                        i += 2
                    } else if i + 1 < s.count && s[i] == "*" && s[i + 1] == "/" {
                        depth -= 1
                        append(s[i])
                        append(s[i + 1])
                        i += 2
                    } else if i < s.count {
                        append(s[i])
                        i += 1
                    } else {
                        throw .unterminated(construct: "block comment", line: opened)
                    }
                } while depth > 0
                continue
            }
            if c == "'" {
                markCode()
                // E'...' strings allow backslash escapes; standard strings only double the quote.
                let escapes =
                    i > 0 && (s[i - 1] == "E" || s[i - 1] == "e")
                    && (i < 2 || !isIdentifierPart(s[i - 2]))
                let opened = line
                append(c)
                i += 1
                var closed = false
                while i < s.count {
                    let q = s[i]
                    if escapes && q == "\\" && i + 1 < s.count {
                        append(q)
                        append(s[i + 1])
                        i += 2
                        continue
                    }
                    append(q)
                    i += 1
                    if q == "'" {
                        if i < s.count && s[i] == "'" {
                            append(s[i])
                            i += 1
                        } else {
                            closed = true
                            break
                        }
                    }
                }
                if !closed { throw .unterminated(construct: "string literal", line: opened) }
                continue
            }
            if c == "\"" {
                markCode()
                let opened = line
                append(c)
                i += 1
                var closed = false
                while i < s.count {
                    let q = s[i]
                    append(q)
                    i += 1
                    if q == "\"" {
                        if i < s.count && s[i] == "\"" {
                            append(s[i])
                            i += 1
                        } else {
                            closed = true
                            break
                        }
                    }
                }
                if !closed { throw .unterminated(construct: "quoted identifier", line: opened) }
                continue
            }
            if c == "$", let tag = dollarTag(s, at: i) {
                markCode()
                let opened = line
                for scalar in tag { append(scalar) }
                i += tag.count
                var closed = false
                while i < s.count {
                    if s[i] == "$" && matches(s, at: i, tag) {
                        for scalar in tag { append(scalar) }
                        i += tag.count
                        closed = true
                        break
                    }
                    append(s[i])
                    i += 1
                }
                if !closed { throw .unterminated(construct: "dollar-quoted string", line: opened) }
                continue
            }
            if c == ";" {
                if hasCode {
                    statements.append(Statement(sql: trimmed(current), line: startLine ?? line))
                }
                current = String.UnicodeScalarView()
                hasCode = false
                startLine = nil
                i += 1
                continue
            }
            if !c.properties.isWhitespace { markCode() }
            append(c)
            i += 1
        }
        if hasCode {
            statements.append(Statement(sql: trimmed(current), line: startLine ?? line))
        }
        return statements
    }

    /// `$tag$` or `$$` starting at `i`, or nil when the `$` is a positional parameter or part of a name.
    private static func dollarTag(_ s: [Unicode.Scalar], at i: Int) -> [Unicode.Scalar]? {
        if i > 0 && isIdentifierPart(s[i - 1]) { return nil }
        var j = i + 1
        while j < s.count && s[j] != "$" {
            let scalar = s[j]
            let allowed =
                scalar == "_" || scalar.properties.isAlphabetic
                || (j > i + 1 && ("0"..."9").contains(scalar))
            if !allowed { return nil }
            j += 1
        }
        guard j < s.count else { return nil }
        return Array(s[i...j])
    }

    private static func matches(_ s: [Unicode.Scalar], at i: Int, _ tag: [Unicode.Scalar]) -> Bool {
        guard i + tag.count <= s.count else { return false }
        for k in 0..<tag.count where s[i + k] != tag[k] { return false }
        return true
    }

    private static func isIdentifierPart(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "_" || scalar == "$" || scalar.properties.isAlphabetic || ("0"..."9").contains(scalar)
    }

    private static func trimmed(_ view: String.UnicodeScalarView) -> String {
        String(view).trimmingWhitespace()
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        var scalars = Substring(self).unicodeScalars
        while let first = scalars.first, first.properties.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.properties.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}
