import DeskClientKit
import Foundation

// desk: read the settings, build the app, start it. The work lives in DeskClientKit.
let environment = ProcessInfo.processInfo.environment
let settings = Launch.settings(arguments: Array(CommandLine.arguments.dropFirst()), environment: environment)
let app = Launch.app(settings: settings, environment: environment)
app.start()
dispatchMain()
