import Testing
import TestSupport

extension Trait where Self == ConditionTrait {
    /// Runs a suite only where the PostgreSQL server is installed, and says why it was skipped.
    static var needsPostgreSQL: Self {
        .enabled(if: PostgresCluster.isAvailable, "needs the PostgreSQL server (pg_config --bindir; apt install postgresql-15)")
    }
}
