"""Use cases: one method per thing a user does, with its permission check and transaction. No Qt."""
