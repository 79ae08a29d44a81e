-- What each plugin keeps in plugin_kv, for its quota (limits.kv_max_keys, kv_max_bytes).
-- Every write of plugin_kv updates its plugin's row in the same transaction, after locking
-- it, so a quota check reads one row instead of summing the plugin's values, and writers of
-- one plugin on several replicas take turns. A row counts every entry until it is deleted:
-- expired entries count until they are swept (before a write would be refused, and hourly).
CREATE TABLE plugin_kv_usage (
    plugin              TEXT PRIMARY KEY,
    keys                BIGINT NOT NULL,
    bytes               BIGINT NOT NULL         -- of the keys and the values, in bytes
);

INSERT INTO plugin_kv_usage (plugin, keys, bytes)
SELECT plugin, COUNT(*), SUM(octet_length(key) + octet_length(value))
FROM plugin_kv
GROUP BY plugin;

-- One plugin's expired entries, swept before one of its writes is refused.
CREATE INDEX plugin_kv_expiry ON plugin_kv(plugin, expires_at) WHERE expires_at IS NOT NULL;
