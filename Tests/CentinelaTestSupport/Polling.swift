/// Asks `attempt` again every `interval` until its answer satisfies `done` or `limit` has passed,
/// and gives the last answer either way: the test then checks it, and can say what it was. For
/// what a loaded machine makes slow but must come by itself (readiness, a delivery, a scrape).
public func poll<Answer>(
    within limit: Duration, every interval: Duration = .milliseconds(250),
    isolation: isolated (any Actor)? = #isolation,
    _ attempt: () async throws -> Answer, until done: (Answer) throws -> Bool
) async throws -> Answer {
    let deadline = ContinuousClock.now + limit
    while true {
        let answer = try await attempt()
        if try done(answer) || ContinuousClock.now >= deadline { return answer }
        try await Task.sleep(for: interval)
    }
}
