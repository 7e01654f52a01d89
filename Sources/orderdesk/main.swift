import Foundation
#if canImport(Glibc)
import Glibc
#endif

// orderdesk: parse the command line, build the pieces, start. The work lives in OrderDeskServer.
signal(SIGPIPE, SIG_IGN)
let arguments = Array(CommandLine.arguments.dropFirst())
// `serve` takes SIGTERM, SIGINT and SIGHUP with sigwait: block them before anything can start a thread.
if arguments.first == "serve" { Commands.blockStopSignals() }
do {
    let options = try Options(arguments, switchNames: ["demo", "help", "prometheus", "history", "tls", "allow-plaintext", "standby", "cluster"])
    try Commands.refuseSQLiteOnlyOnPostgres(options)
    switch options.positional.first {
    case "serve": try Commands.serve(options)
    case "user": try Commands.addUser(options)
    case "import": exit(try Commands.importFile(options))
    case "metrics": exit(try Commands.metrics(options))
    case "backup": exit(try Commands.backup(options))
    case "check": exit(try Commands.check(options))
    case "export": exit(try Commands.export(options))
    case nil where options.has("help"), "help": print(Commands.usage)
    default: throw UsageError(Commands.usage)
    }
} catch let error as UsageError {
    FileHandle.standardError.write(Data("orderdesk: \(error)\n".utf8))
    exit(2)
} catch {
    FileHandle.standardError.write(Data("orderdesk: \(error)\n".utf8))
    exit(1)
}
