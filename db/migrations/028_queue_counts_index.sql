-- The queue's counts (awaiting, past the SLA, window closing, window closed) read every awaiting
-- conversation of the tenant. With the state columns in the partial index they are an index-only
-- scan instead of one heap fetch per conversation: at a tenant of 120,000 conversations with 8,102
-- awaiting, 4-14 ms instead of 68-112 ms (EXPLAIN ANALYZE on the medium bench, 2 busy cores).
-- The page keeps its order and keyset on the same leading columns.
CREATE INDEX conversations_awaiting_idx ON analytics.conversations (tenant_id, waiting_since, conversation_id)
    INCLUDE (inbox_id, waiting_due_at, window_closes_at)
    WHERE waiting_since IS NOT NULL;
DROP INDEX analytics.conversations_waiting_idx;

---- create above / drop below ----

CREATE INDEX conversations_waiting_idx ON analytics.conversations (tenant_id, waiting_since, conversation_id)
    WHERE waiting_since IS NOT NULL;
DROP INDEX analytics.conversations_awaiting_idx;
