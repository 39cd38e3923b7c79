import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Runs a short command (`pg_ctl stop`, `/bin/true`) to its end, reaping it here, or gives up
/// after `timeout` and terminates it. Returns whether it ended in time.
///
/// Not `Process.waitUntilExit()`: on Linux, Foundation learns that its child ended when a socket
/// the child inherited closes, and a server started at that moment by another test (through
/// `posix_spawn`, which passes every open descriptor on) can hold that socket open for as long as
/// it runs. Once, on a loaded machine, `make test` stopped so: every thread idle, one in
/// `waitUntilExit` after a `pg_ctl stop` that had long finished, the test cluster still up.
@discardableResult
public func runToEnd(_ process: Process, timeout: TimeInterval = 90) -> Bool {
    guard (try? process.run()) != nil else { return false }
    let pid = process.processIdentifier
    let deadline = Date().addingTimeInterval(timeout)
    var status: Int32 = 0
    while Date() < deadline {
        let reaped = waitpid(pid, &status, WNOHANG)
        // Reaped here, or already by Foundation's own watcher.
        if reaped == pid || (reaped == -1 && errno == ECHILD) { return true }
        usleep(10_000)
    }
    process.terminate()
    return false
}
