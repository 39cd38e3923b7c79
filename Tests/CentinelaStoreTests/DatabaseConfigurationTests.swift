import CentinelaStore
import Testing

@Suite struct DatabaseConfigurationTests {
    @Test func parsesAFullURL() throws {
        let c = try DatabaseConfiguration(
            url:
                "postgres://svc:s%40cret@db.example.org:6543/centinela?sslmode=verify-full&sslrootcert=/etc/ca.pem&connect_timeout=3&application_name=api"
        )
        #expect(c.endpoint == .tcp(host: "db.example.org", port: 6543))
        #expect(c.username == "svc")
        #expect(c.password == "s@cret")
        #expect(c.database == "centinela")
        #expect(c.tlsMode == .verifyFull)
        #expect(c.rootCertificatePath == "/etc/ca.pem")
        #expect(c.connectTimeout == .seconds(3))
        #expect(c.applicationName == "api")
    }

    @Test func defaultsLikeLibpq() throws {
        let c = try DatabaseConfiguration(url: "postgresql://svc@localhost/centinela")
        #expect(c.endpoint == .tcp(host: "localhost", port: 5432))
        #expect(c.password == nil)
        #expect(c.tlsMode == .prefer)
    }

    @Test func acceptsAUnixSocketFolder() throws {
        let c = try DatabaseConfiguration(url: "postgres://svc@/centinela?host=/var/run/postgresql&port=5433")
        #expect(c.endpoint == .unixSocket(directory: "/var/run/postgresql", port: 5433))
        let encoded = try DatabaseConfiguration(url: "postgres://svc@%2Ftmp%2Fpg/centinela")
        #expect(encoded.endpoint == .unixSocket(directory: "/tmp/pg", port: 5432))
    }

    @Test func acceptsIPv6Hosts() throws {
        let c = try DatabaseConfiguration(url: "postgres://svc@[::1]:5432/centinela")
        #expect(c.endpoint == .tcp(host: "::1", port: 5432))
        #expect(c.redactedDescription == "postgres://svc@[::1]:5432/centinela")
    }

    @Test func neverShowsThePassword() throws {
        let c = try DatabaseConfiguration(url: "postgres://svc:topsecret@db:5432/centinela")
        #expect(!c.redactedDescription.contains("topsecret"))
        #expect(!"\(c)".contains("topsecret"))
        #expect(c.redactedDescription == "postgres://svc@db:5432/centinela")
    }

    @Test(arguments: [
        ("", "it is not a URL"),
        ("mysql://u@h/db", "the scheme must be postgres:// or postgresql://, not mysql://"),
        ("postgres://h/db", "it names no user (postgres://USER@host/database)"),
        ("postgres://u@h", "it names no database (postgres://user@host/DATABASE)"),
        ("postgres://u@h/db?sslmode=sometimes", "sslmode must be one of disable, allow, prefer, require, verify-ca, verify-full"),
        ("postgres://u@h/db?connect_timeout=soon", "connect_timeout must be a whole number of seconds"),
        ("postgres://u@h/db?sslcert=/c.pem", "sslcert and sslkey go together"),
        ("postgres://u@h/db?pool=3", "unsupported parameter pool"),
        ("postgres://u@h:99999/db", "bad port 99999"),
    ])
    func refusesUnusableURLs(_ url: String, _ reason: String) {
        #expect(throws: DatabaseConfigurationError.unparsableURL(reason)) {
            try DatabaseConfiguration(url: url)
        }
    }

    @Test(arguments: [
        "postgres://svc:p%40ss%2Fword@db.example.org:6543/centinela?sslmode=verify-full&sslrootcert=/etc/ca.pem",
        "postgres://svc@/centinela?host=/var/run/postgresql&port=5433",
        "postgres://svc@[::1]:5432/centinela?sslmode=disable",
    ])
    func connectionURLRoundTrips(_ url: String) throws {
        let parsed = try DatabaseConfiguration(url: url)
        #expect(try DatabaseConfiguration(url: parsed.connectionURL) == parsed)
    }

    @Test func errorMessagesDoNotEchoTheURL() {
        do {
            _ = try DatabaseConfiguration(url: "postgres://u:hunter2@h/db?sslmode=bogus")
            Issue.record("expected an error")
        } catch {
            #expect(!error.description.contains("hunter2"))
        }
    }
}
