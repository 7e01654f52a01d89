/// A way of running `desk`: the chat screen, or a script.
public protocol DeskApp: AnyObject, Sendable {
    /// Connects and runs; the app exits the process when it is done.
    func start()
}
