import CentinelaHTTP
import CentinelaStore
import CentinelaTestSupport
import Foundation
import HTTPTypes
import Testing

@testable import CentinelaHTTP

/// Limits on how fast one caller may go (issue 21, abuse limits): 429 with Retry-After.
@Suite struct RateLimitTests {
    @Test func aBucketHoldsItsBurstAndRefillsAtItsRate() {
        let limiter = RateLimiter(rate: 2, burst: 3)
        let start = ContinuousClock.now
        #expect((0..<3).map { _ in limiter.take("a", now: start) } == [nil, nil, nil])
        let wait = limiter.take("a", now: start)
        #expect(wait == .milliseconds(500), "one more in half a second at 2 a second")
        #expect(limiter.check("a", now: start) == .milliseconds(500), "checking takes nothing")
        #expect(limiter.take("b", now: start) == nil, "callers are apart")
        #expect(limiter.take("a", now: start + .milliseconds(500)) == nil)
        #expect(limiter.take("a", now: start + .milliseconds(500)) != nil)
        #expect((0..<3).map { _ in limiter.take("a", now: start + .seconds(60)) } == [nil, nil, nil], "never more than the burst")
        #expect(Duration.milliseconds(1).retryAfterSeconds == 1 && Duration.milliseconds(1500).retryAfterSeconds == 2)
    }

    @Test func aFloodOfBadTokensIsThrottledWithoutAskingTheDatabase() async throws {
        // Five failures, then one every ten minutes (the service's: twenty, then one every 3 s).
        let limits = HTTPConfiguration(host: "127.0.0.1", port: 0, failedAuthenticationBurst: 5, failedAuthenticationEvery: .seconds(600))
        try await APITest.run(limits: limits) { (api: APITest) async throws in
            var statuses: [HTTPResponse.Status] = []
            for n in 0..<7 {
                statuses.append(try await api.call(.get, "/v1/facilities", token: "cen_bogus\(n)").status)
            }
            #expect(statuses.prefix(5).allSatisfy { $0 == .unauthorized }, "\(statuses)")
            #expect(statuses.suffix(2) == [.tooManyRequests, .tooManyRequests], "\(statuses)")
            let refused = try await api.call(.get, "/v1/facilities", token: api.world.regulatorToken)
            #expect(refused.status == .tooManyRequests, "the address is throttled, whatever its next token")
            #expect((500...600).contains(Int(refused.headers[.retryAfter] ?? "") ?? 0), "\(refused.headers)")
            #expect(refused.headers[.contentType] == "application/problem+json" && refused.json["type"] as? String != nil)
        }
    }

    /// A throttled address still lets through a token that authenticated lately (from anywhere):
    /// one misconfigured client behind a school's or an office's shared address must not lock
    /// out the others behind it. A revoked one is refused as ever (401, not a pass).
    @Test func aTokenThatAuthenticatedLatelyPassesAThrottledAddress() async throws {
        let limits = HTTPConfiguration(host: "127.0.0.1", port: 0, failedAuthenticationBurst: 3, failedAuthenticationEvery: .seconds(600))
        try await APITest.run(limits: limits) { (api: APITest) async throws in
            #expect(try await api.call(.get, "/v1/facilities", token: api.world.regulatorToken).status == .ok)
            #expect(try await api.call(.get, "/v1/facilities", token: api.world.schoolToken).status == .ok)
            for n in 0..<5 { _ = try await api.call(.get, "/v1/facilities", token: "cen_bogus\(n)") }
            #expect(try await api.call(.get, "/v1/facilities", token: "cen_bogus9").status == .tooManyRequests)
            #expect(try await api.call(.get, "/v1/facilities", token: api.world.regulatorToken).status == .ok)
            #expect(
                try await api.call(.get, "/v1/facilities", token: api.world.otherRegulatorToken).status == .tooManyRequests,
                "a token not seen lately waits like any other")
            let school = api.world.schoolToken
            try await api.world.database.withConnection(logger: TestDatabase.logger) { connection in
                _ = try await TokenStore(logger: TestDatabase.logger).revoke(
                    String(school.prefix(12)), reason: "left the post", on: connection)
            }
            #expect(try await api.call(.get, "/v1/facilities", token: api.world.schoolToken).status == .unauthorized)
        }
    }

    @Test func aTokenMakesAtMostItsRateAndOthersAreNotSlowed() async throws {
        // Half a request a minute: a burst of one (ten seconds' worth is less), then 429.
        let limits = HTTPConfiguration(host: "127.0.0.1", port: 0, requestsPerSecondPerToken: 0.5 / 60)
        try await APITest.run(limits: limits) { (api: APITest) async throws in
            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<3 {
                statuses.append(try await api.call(.get, "/v1/facilities", token: api.world.regulatorToken).status)
            }
            #expect(statuses == [.ok, .tooManyRequests, .tooManyRequests], "\(statuses)")
            let limited = try await api.call(.get, "/v1/facilities", token: api.world.regulatorToken)
            #expect(
                limited.status == .tooManyRequests && (100...120).contains(Int(limited.headers[.retryAfter] ?? "") ?? 0),
                "\(limited.headers)")
            #expect(try await api.call(.get, "/v1/facilities", token: api.world.otherRegulatorToken).status == .ok)
        }
    }
}
