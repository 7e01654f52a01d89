import Foundation
#if canImport(Glibc)
import Glibc
#endif

// orderdesk-bench: measures the desk (and, when installed, beanstalkd and Redis) on this machine.
// Results and how to read them: docs/BENCHMARKS.md.
signal(SIGPIPE, SIG_IGN)
let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.first == "__serve" { BenchServer.serve(arguments: Array(arguments.dropFirst())) }
do {
    let options = try BenchOptions(arguments)
    if options.help {
        say(BenchOptions.usage)
        exit(0)
    }
    try BenchRun(options: options).run()
} catch {
    FileHandle.standardError.write(Data("orderdesk-bench: \(error)\n".utf8))
    exit(2)
}
