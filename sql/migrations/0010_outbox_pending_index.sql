-- 0010: the delivery round looks for pending messages in id order; without an index
-- starting at the state it walked every sent message first (bench/outbox: 1,468 index
-- entries read per message once 10,000 were sent). Sent rows are kept (evidence of sync).
ALTER TABLE outbox ADD KEY IF NOT EXISTS ix_outbox_state_id (state, id);
