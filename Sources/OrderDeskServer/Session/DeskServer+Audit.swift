import Dispatch
import OrderDeskCore

/// AUDIT: the trail lives in the store, not in the desk's memory, so it is read off the desk
/// queue the way an archived order's thread is.
extension DeskServer {
    /// Once every change so far is committed (so the page includes the admin's own latest
    /// action), the store queue reads the page; the session's later lines wait meanwhile. The
    /// caller checked the role.
    func showAudit(_ query: AuditQuery, on connection: Connection) {
        dispatchPrecondition(condition: .onQueue(queue))
        connection.isBusy = true
        let store = self.store
        let deskQueue = queue
        pipeline.whenDurable { [weak self] _ in
            self?.storeQueue.async { [weak self] in
                let page = Result { try store.audit(query) }
                deskQueue.async { [weak self] in
                    guard let self else { return }
                    connection.isBusy = false
                    switch page {
                    case .success(let page): self.send(self.desk.answerAudit(page), to: connection)
                    case .failure(let error):
                        self.log(.error, "reading the audit trail failed", [("error", "\(error)")])
                        self.send(.failure(.storageFailed), to: connection)
                    }
                    self.serve(connection)
                }
            }
        }
    }
}
