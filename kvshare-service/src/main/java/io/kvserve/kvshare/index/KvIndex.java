package io.kvserve.kvshare.index;

import io.kvserve.common.events.KvEventEntry;
import io.kvserve.common.events.KvStreamEvent;
import io.kvserve.common.kvcache.BlockHash;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.ByteArrayCodec;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The kvshare prefix-cache index in Redis: which instance holds which block hash, fed by the
 * instances' KV event stream and asked, for a hash chain, how many leading blocks each instance holds.
 *
 * <h2>Design</h2>
 * The inputs are vLLM-style KV events [1]: batches of {@code stored} / {@code removed} block hashes
 * per instance, plus {@code cleared} and {@code reset}. llm-d's kv-cache-manager [2] keeps the same
 * thing as a map from block key to the pods holding it and scores pods by walking the request's key
 * chain from block 0 until a pod misses; Dynamo's KV router [3] keeps a radix tree of blocks with the
 * workers under each node. Because block hashes are chained ({@code BlockHasher}), a hash already
 * names its whole prefix, so the tree collapses to a flat map keyed by hash: the walk over the chain
 * <em>is</em> the walk down the tree. This index is that map, kept in Redis so that several kvshare
 * replicas share it and a restart loses nothing.
 *
 * <pre>
 *   &lt;p&gt; = key prefix (default "kvshare:"), &lt;h&gt; = the 16 raw bytes of a BlockHash
 *
 *   &lt;p&gt;blk:&lt;h&gt;              HASH  {&lt;instance id&gt; -&gt; ""}    reverse index: who holds h
 *   &lt;p&gt;inst:&lt;id&gt;:blocks      SET   {&lt;h&gt;, ...}              the instance's blocks (source of truth)
 *   &lt;p&gt;inst:&lt;id&gt;:state       HASH  epoch seq model ts       last applied (epoch, seq)
 *   &lt;p&gt;inst:&lt;id&gt;:missing     ZSET  seq -&gt; first seen ms     gap; member "resync" = too large to list
 *   &lt;p&gt;inst:&lt;id&gt;:old-epochs  ZSET  epoch -&gt; retired ms      the last 16 epochs left (late entries)
 *   &lt;p&gt;inst:&lt;id&gt;:drops       SET   {&lt;p&gt;drop:&lt;n&gt;, ...}      drops of this instance not yet drained
 *   &lt;p&gt;drop:&lt;n&gt;             SET   {&lt;h&gt;, ...}              a dropped block set, being drained
 *   &lt;p&gt;drops                HASH  &lt;p&gt;drop:&lt;n&gt; -&gt; id        every pending drop (any replica drains it)
 *   &lt;p&gt;drop-seq  &lt;p&gt;num-blocks  &lt;p&gt;num-entries   STRING counters
 *   &lt;p&gt;indexed              SET   {&lt;id&gt;, ...}              instances with state
 *
 *   apply(entry) ── one EVALSHA ──&gt; state check, then per event:
 *       stored h:   SADD inst:id:blocks h;  HSETNX blk:h id
 *       removed h:  SREM inst:id:blocks h;  HDEL blk:h id
 *       cleared/reset/new epoch:  RENAME inst:id:blocks -&gt; drop:n   (O(1))
 *   then drain drop:n ── EVALSHA x ceil(n/1000) ──&gt; SPOP 1000; HDEL blk:h id unless h is held again
 * </pre>
 *
 * <p><b>Hashes as raw bytes.</b> Keys and members carry the 16 canonical bytes of a hash, not its 32
 * hex digits (the connection uses {@link ByteArrayCodec}; Lua strings are byte strings). {@code blk:h}
 * is a HASH rather than a SET because Redis before 7.2 stores every SET of strings as a hashtable,
 * while a small HASH is a compact listpack; a block held by a few instances costs one small key.
 *
 * <p><b>One script per entry.</b> {@link #apply} runs the epoch/seq bookkeeping and all the entry's
 * events in one Lua call, so an entry is applied entirely or not at all, and a consumer that crashes
 * and gets the entry again finds it {@code DUPLICATE}. Several replicas may consume one stream and
 * apply an instance's entries out of order: a seq above {@code last + 1} records the missing seqs
 * (with the time first missed), a missing seq arriving later is applied as {@code LATE}, and a gap that
 * stays open past a deadline ({@link #instancesWithOverdueGaps}) is repaired by asking the instance to
 * re-announce. A new epoch means a restart: the old blocks go and the old epoch is remembered, so a
 * straggling entry of it is {@code STALE_EPOCH}, not a second restart.
 *
 * <p>Applying an entry late is exact for {@code stored} and {@code removed} of different blocks, but
 * events do not commute in general: a late {@code removed} of a block that a later entry stored again
 * removes it, and a late {@code cleared} drops what later entries stored. The index errs on the safe
 * side: a wrong index entry costs a recompute (the engine checks its own cache), never a wrong answer.
 * A late {@code reset} is skipped (the epoch change already dropped the old blocks, and it must not
 * drop blocks its epoch's later entries stored), and a late {@code cleared} is applied and marks the
 * instance for a resync, so the next overdue-gap sweep asks it to re-announce.
 *
 * <p><b>Drops without blocking Redis.</b> An instance may hold 100k blocks; removing them in one script
 * would stall every other client for about half a second (the reverse index drains at about 190k
 * pairs/s, {@link KvIndexBenchmark}'s {@code dropInstance} line). So a drop {@code RENAME}s the instance's
 * block set to a {@code drop:n} key inside the atomic apply (O(1)), and the reverse index entries are
 * removed afterwards by bounded scripts of {@value #DROP_CHUNK} blocks each (about 5 ms of Redis). The drop is atomic for
 * queries anyway: while an instance has an undrained drop, {@link #longestPrefixes} checks that
 * instance against its own block set (the source of truth) instead of {@code blk:h}, so a query sees
 * all of the instance's old blocks or none of them. Only {@link #numBlocks()} and
 * {@link #numEntries()} still count undrained pairs; {@code apply} and {@link #dropInstance} drain
 * before they return, and a drain interrupted by a crash is finished by {@link #drainPendingDrops()}
 * (or the instance's next entry). The drain skips a hash the instance stored again after the drop.
 *
 * <p><b>Queries.</b> {@link #longestPrefixes} is one script, the chain passed as one argument of
 * 16-byte hashes back to back. It walks in two phases, because the cheap way to ask depends on how
 * many candidates are still in the walk:
 * <ol>
 *   <li>While more than {@value #MAX_RUN_WALKERS} candidates hold every block so far, all of them
 *       advance together, one {@code HKEYS blk:h} per block (an instance with an undrained drop is
 *       asked {@code SISMEMBER} on its own block set instead); a candidate that lacks the block stops
 *       there, and a miss on block 0 ends the walk after one {@code HKEYS}.</li>
 *   <li>Each of the few left is walked alone against its own block set, the source of truth (so
 *       drops are exact without a special case): {@code SMISMEMBER inst:id:blocks} over runs of 16,
 *       32, 64, ... (at most 1024) blocks, stopping in the first run with a block it lacks. A long
 *       prefix held by one instance then costs about log2(m / 16) + 2 commands instead of one per
 *       block; the runs' arguments are cut from the chain once and shared.</li>
 * </ol>
 * Per block, phase 1 costs one command (1.5 us of Redis) and a table lookup per candidate; phase 2
 * about two member checks per candidate (a run overshoots by up to 2x) and a command per doubling,
 * so it wins once few candidates are left. Redis time ({@code evalsha} usec in {@code INFO
 * commandstats}, one run each, Redis 7.0 on the 2 shared cores), against the walk before, which was
 * phase 1 to the end with one {@code HEXISTS} per candidate and block once at most two were left:
 * the {@code bin/kvserve bench-placement} prompt (256 blocks; 8 of 16 instances hold 16, 48, ..., 240
 * leading blocks) 0.62 ms -&gt; 0.29 ms per query; {@code bin/kvserve bench-kvshare} (shared prefixes
 * held by all 16 instances, then one instance's tail; ingest and 11 000 queries) 13.7 s -&gt; 12.1 s in
 * all, its 1.08 M {@code HEXISTS} (0.77 s) replaced by 24 k {@code SMISMEMBER} (0.42 s). Phase 2 alone
 * from block 0 cost that benchmark 0.8 s more than the old walk; with at most 4 run walkers the
 * placement prompt went back to 0.54 ms.
 *
 * <p>Keys are built inside the scripts, which is fine on a single Redis (and its replicas) but not on
 * Redis Cluster, where every key must be passed in {@code KEYS}. Thread-safe: one Lettuce connection,
 * shared by all callers (Lettuce pipelines concurrent commands on it).
 *
 * <h2>References</h2>
 * <ol>
 *   <li>vLLM, KV cache events ({@code vllm/distributed/kv_events.py}: {@code BlockStored},
 *       {@code BlockRemoved}, {@code AllBlocksCleared}) and automatic prefix caching.</li>
 *   <li>llm-d, kv-cache-manager ({@code llm-d-kv-cache-manager}): KV-block index fed by vLLM KV events,
 *       pod scoring by longest consecutive prefix of block keys.</li>
 *   <li>NVIDIA Dynamo, KV cache routing: {@code RadixTree} of KV blocks with the workers holding them,
 *       {@code find_matches} with early exit, overlap scores per worker.</li>
 * </ol>
 */
public final class KvIndex implements AutoCloseable {

    /** The key prefix when none is configured. */
    public static final String DEFAULT_PREFIX = "kvshare:";
    /** Most missing seqs recorded one by one; a larger gap marks the instance for a full resync. */
    public static final int MAX_TRACKED_GAP_SEQS = 1000;
    /** Blocks removed from the reverse index per drain script call. */
    public static final int DROP_CHUNK = 1000;
    /** Retired epochs remembered per instance (to recognise late entries of a previous life). */
    public static final int MAX_OLD_EPOCHS = 16;
    /** Member of the missing ZSET that stands for a gap too large to list. */
    public static final String RESYNC_MEMBER = "resync";

    private static final long TIMEOUT_SECONDS = 60;
    private static final byte[] OP_STORED = bytes("s");
    private static final byte[] OP_REMOVED = bytes("r");
    private static final byte[] OP_CLEARED = bytes("c");
    private static final byte[] OP_RESET = bytes("x");
    private static final byte[][] NO_KEYS = new byte[0][];

    private static final String LUA_DROP_FUNCTION = """
            local function drop(p, id, blocksKey)
              local n = redis.call('SCARD', blocksKey)
              if n == 0 then return 0 end
              local t = p .. 'drop:' .. redis.call('INCR', p .. 'drop-seq')
              redis.call('RENAME', blocksKey, t)
              redis.call('SADD', p .. 'inst:' .. id .. ':drops', t)
              redis.call('HSET', p .. 'drops', t, id)
              return n
            end
            """;

    /** ARGV: prefix id epoch seq model ts nowMs maxGap maxOldEpochs, then ops ('s' hashes | 'r' hashes | 'c' | 'x' (reset)), hashes = 16-byte hashes concatenated. */
    private static final String LUA_APPLY = LUA_DROP_FUNCTION + """
            local p, id, epoch, seq = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
            local now, maxGap, maxOld = tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])
            local ik = p .. 'inst:' .. id
            local stateKey, blocksKey, missingKey, oldKey = ik .. ':state', ik .. ':blocks', ik .. ':missing', ik .. ':old-epochs'
            local cur = redis.call('HMGET', stateKey, 'epoch', 'seq')
            local status, last, dropped, gap = 'APPLIED', 0, 0, 0
            if cur[1] then
              if cur[1] ~= epoch then
                if redis.call('ZSCORE', oldKey, epoch) then
                  return {'STALE_EPOCH', 0, 0, 0, 0}
                end
                redis.call('ZADD', oldKey, now, cur[1])
                if redis.call('ZCARD', oldKey) > maxOld then
                  redis.call('ZREMRANGEBYRANK', oldKey, 0, -(maxOld + 1))
                end
                dropped = drop(p, id, blocksKey)
                redis.call('DEL', missingKey)
                status = 'NEW_EPOCH'
              else
                last = tonumber(cur[2])
              end
            end
            if seq <= last then
              if redis.call('ZREM', missingKey, string.format('%d', seq)) == 1 then
                status = 'LATE'
              else
                return {'DUPLICATE', 0, 0, 0, 0}
              end
            elseif seq > last + 1 then
              gap = seq - last - 1
              if gap > maxGap then
                redis.call('ZADD', missingKey, 'NX', now, 'resync')
              else
                local args = {}
                for s = last + 1, seq - 1 do
                  args[#args + 1] = now
                  args[#args + 1] = string.format('%d', s)
                end
                redis.call('ZADD', missingKey, 'NX', unpack(args))
              end
            end
            local stored, removed, dBlocks, dEntries = 0, 0, 0, 0
            local i, n = 10, #ARGV
            while i <= n do
              local op = ARGV[i]
              if op == 'c' or op == 'x' then
                if status ~= 'LATE' then
                  dropped = dropped + drop(p, id, blocksKey)
                elseif op == 'c' then
                  dropped = dropped + drop(p, id, blocksKey)
                  redis.call('ZADD', missingKey, 'NX', now, 'resync')
                end
                i = i + 1
              else
                local blob = ARGV[i + 1]
                local count = #blob / 16
                if op == 's' then
                  for j = 1, count do
                    local h = string.sub(blob, 16 * j - 15, 16 * j)
                    stored = stored + redis.call('SADD', blocksKey, h)
                    local bk = p .. 'blk:' .. h
                    if redis.call('HSETNX', bk, id, '') == 1 then
                      dEntries = dEntries + 1
                      if redis.call('HLEN', bk) == 1 then dBlocks = dBlocks + 1 end
                    end
                  end
                else
                  for j = 1, count do
                    local h = string.sub(blob, 16 * j - 15, 16 * j)
                    removed = removed + redis.call('SREM', blocksKey, h)
                    local bk = p .. 'blk:' .. h
                    if redis.call('HDEL', bk, id) == 1 then
                      dEntries = dEntries - 1
                      if redis.call('EXISTS', bk) == 0 then dBlocks = dBlocks - 1 end
                    end
                  end
                end
                i = i + 2
              end
            end
            if dBlocks ~= 0 then redis.call('INCRBY', p .. 'num-blocks', dBlocks) end
            if dEntries ~= 0 then redis.call('INCRBY', p .. 'num-entries', dEntries) end
            redis.call('HSET', stateKey, 'epoch', epoch, 'seq', string.format('%d', math.max(last, seq)), 'model', ARGV[5], 'ts', ARGV[6])
            redis.call('SADD', p .. 'indexed', id)
            local result = {status, gap, stored, removed, dropped}
            for _, t in ipairs(redis.call('SMEMBERS', ik .. ':drops')) do result[#result + 1] = t end
            return result
            """;

    /** ARGV: prefix dropKey chunk. Returns {members left, entries removed}. */
    private static final String LUA_DRAIN = """
            local p, t, chunk = ARGV[1], ARGV[2], tonumber(ARGV[3])
            local id = redis.call('HGET', p .. 'drops', t)
            if not id then return {0, 0} end
            local blocksKey = p .. 'inst:' .. id .. ':blocks'
            local dBlocks, dEntries = 0, 0
            for _, h in ipairs(redis.call('SPOP', t, chunk)) do
              if redis.call('SISMEMBER', blocksKey, h) == 0 then
                local bk = p .. 'blk:' .. h
                if redis.call('HDEL', bk, id) == 1 then
                  dEntries = dEntries + 1
                  if redis.call('EXISTS', bk) == 0 then dBlocks = dBlocks + 1 end
                end
              end
            end
            if dBlocks ~= 0 then redis.call('DECRBY', p .. 'num-blocks', dBlocks) end
            if dEntries ~= 0 then redis.call('DECRBY', p .. 'num-entries', dEntries) end
            local left = redis.call('SCARD', t)
            if left == 0 then
              redis.call('HDEL', p .. 'drops', t)
              redis.call('SREM', p .. 'inst:' .. id .. ':drops', t)
            end
            return {left, dEntries}
            """;

    /** ARGV: prefix id. Returns {blocks dropped, drop keys...}. */
    private static final String LUA_DROP_INSTANCE = LUA_DROP_FUNCTION + """
            local p, id = ARGV[1], ARGV[2]
            local ik = p .. 'inst:' .. id
            local result = {drop(p, id, ik .. ':blocks')}
            redis.call('DEL', ik .. ':state', ik .. ':missing', ik .. ':old-epochs')
            redis.call('SREM', p .. 'indexed', id)
            for _, t in ipairs(redis.call('SMEMBERS', ik .. ':drops')) do result[#result + 1] = t end
            return result
            """;

    /** Candidates still holding the walked prefix at or below which each is walked alone, by runs (class comment). */
    static final int MAX_RUN_WALKERS = 8;

    /** ARGV: prefix k id1..idk chain (the 16-byte hashes concatenated). Returns the leading blocks held per candidate. */
    private static final String LUA_LONGEST_PREFIXES = """
            local p, k = ARGV[1], tonumber(ARGV[2])
            local chain = ARGV[3 + k]
            local n = #chain / 16
            local result, alive, exact, dropKeys = {}, {}, {}, {}
            for c = 1, k do
              result[c] = n
              alive[c] = c
              dropKeys[c] = p .. 'inst:' .. ARGV[2 + c] .. ':drops'
            end
            if k > 0 and redis.call('EXISTS', unpack(dropKeys)) > 0 then
              for c = 1, k do
                if redis.call('EXISTS', dropKeys[c]) == 1 then exact[c] = p .. 'inst:' .. ARGV[2 + c] .. ':blocks' end
              end
            end
            local b = 1
            while b <= n and #alive > MAX_RUN_WALKERS do
              local h = string.sub(chain, 16 * b - 15, 16 * b)
              local holders = {}
              for _, f in ipairs(redis.call('HKEYS', p .. 'blk:' .. h)) do holders[f] = true end
              local still = {}
              for _, c in ipairs(alive) do
                local holds
                if exact[c] then
                  holds = redis.call('SISMEMBER', exact[c], h) == 1
                else
                  holds = holders[ARGV[2 + c]] == true
                end
                if holds then still[#still + 1] = c else result[c] = b - 1 end
              end
              alive = still
              b = b + 1
            end
            local runs = {}
            for _, c in ipairs(alive) do
              local blocksKey = p .. 'inst:' .. ARGV[2 + c] .. ':blocks'
              local held, from, size, r = b - 1, b, 16, 1
              while from <= n do
                local to = math.min(n, from + size - 1)
                local args = runs[r]
                if not args then
                  args = {}
                  for i = from, to do args[#args + 1] = string.sub(chain, 16 * i - 15, 16 * i) end
                  runs[r] = args
                end
                local found = redis.call('SMISMEMBER', blocksKey, unpack(args))
                local whole = true
                for i = 1, #found do
                  if found[i] == 1 then held = held + 1 else whole = false break end
                end
                if not whole then break end
                from, size, r = to + 1, math.min(2 * size, 1024), r + 1
              end
              result[c] = held
            end
            return result
            """.replace("MAX_RUN_WALKERS", Integer.toString(MAX_RUN_WALKERS));

    /** ARGV: prefix cutoffMs. Returns the ids whose oldest missing seq is at or before the cutoff. */
    private static final String LUA_OVERDUE = """
            local p, cutoff = ARGV[1], tonumber(ARGV[2])
            local result = {}
            for _, id in ipairs(redis.call('SMEMBERS', p .. 'indexed')) do
              local oldest = redis.call('ZRANGE', p .. 'inst:' .. id .. ':missing', 0, 0, 'WITHSCORES')
              if oldest[2] and tonumber(oldest[2]) <= cutoff then result[#result + 1] = id end
            end
            return result
            """;

    /** ARGV: prefix id. Returns {epoch, seq, model, ts, numBlocks, numMissing, resync} or {}. */
    private static final String LUA_STATE = """
            local ik = ARGV[1] .. 'inst:' .. ARGV[2]
            local s = redis.call('HMGET', ik .. ':state', 'epoch', 'seq', 'model', 'ts')
            if not s[1] then return {} end
            local resync = redis.call('ZSCORE', ik .. ':missing', 'resync') and 1 or 0
            return {s[1], s[2], s[3], s[4], redis.call('SCARD', ik .. ':blocks'),
                    redis.call('ZCARD', ik .. ':missing') - resync, resync}
            """;

    private final StatefulRedisConnection<byte[], byte[]> connection;
    private final boolean ownsConnection;
    private final String prefix;
    private final byte[] prefixBytes;
    private final Script apply;
    private final Script drain;
    private final Script dropInstance;
    private final Script longestPrefixes;
    private final Script overdue;
    private final Script state;

    /** An index over its own connection from {@code client} (closed by {@link #close()}). */
    public KvIndex(RedisClient client, String prefix) {
        this(client.connect(ByteArrayCodec.INSTANCE), prefix, true);
    }

    /** An index over a connection the caller owns and closes; it must use {@link ByteArrayCodec}. */
    public KvIndex(StatefulRedisConnection<byte[], byte[]> connection, String prefix) {
        this(connection, prefix, false);
    }

    private KvIndex(StatefulRedisConnection<byte[], byte[]> connection, String prefix, boolean ownsConnection) {
        this.connection = Objects.requireNonNull(connection, "connection");
        this.ownsConnection = ownsConnection;
        if (prefix == null || prefix.isEmpty()) {
            throw new IllegalArgumentException("key prefix is empty; use e.g. '" + DEFAULT_PREFIX + "'");
        }
        this.prefix = prefix;
        this.prefixBytes = bytes(prefix);
        this.apply = new Script(LUA_APPLY);
        this.drain = new Script(LUA_DRAIN);
        this.dropInstance = new Script(LUA_DROP_INSTANCE);
        this.longestPrefixes = new Script(LUA_LONGEST_PREFIXES);
        this.overdue = new Script(LUA_OVERDUE);
        this.state = new Script(LUA_STATE);
    }

    /** The key prefix every key of this index starts with. */
    public String prefix() {
        return prefix;
    }

    /**
     * Applies one stream entry atomically (one script call), then drains any block drop it caused in
     * bounded steps. See the class comment for the (epoch, seq) rules.
     *
     * @throws IllegalArgumentException when the entry would poison the index (empty instance or epoch)
     */
    public ApplyResult apply(KvEventEntry entry) {
        validateInstanceId(entry.instance());
        if (entry.epoch().isBlank()) {
            throw new IllegalArgumentException("entry of instance '" + entry.instance() + "' has an empty epoch");
        }
        if (entry.seq() < 0) {
            throw new IllegalArgumentException("entry of instance '" + entry.instance() + "' has a negative seq " + entry.seq());
        }
        List<byte[]> args = new ArrayList<>(16 + 2 * entry.events().size());
        args.add(prefixBytes);
        args.add(bytes(entry.instance()));
        args.add(bytes(entry.epoch()));
        args.add(bytes(Long.toString(entry.seq())));
        args.add(bytes(entry.model()));
        args.add(bytes(Long.toString(entry.tsMs())));
        args.add(bytes(Long.toString(System.currentTimeMillis())));
        args.add(bytes(Integer.toString(MAX_TRACKED_GAP_SEQS)));
        args.add(bytes(Integer.toString(MAX_OLD_EPOCHS)));
        for (KvStreamEvent event : entry.events()) {
            switch (event) {
                case KvStreamEvent.Stored stored -> addOp(args, OP_STORED, stored.blockHashes());
                case KvStreamEvent.Removed removed -> addOp(args, OP_REMOVED, removed.blockHashes());
                case KvStreamEvent.Cleared cleared -> args.add(OP_CLEARED);
                case KvStreamEvent.Reset reset -> args.add(OP_RESET);
            }
        }
        List<Object> reply = apply.eval(args.toArray(byte[][]::new));
        ApplyResult result = new ApplyResult(ApplyResult.Status.valueOf(string(reply.get(0))), (Long) reply.get(1),
                (Long) reply.get(2), (Long) reply.get(3), (Long) reply.get(4));
        for (int i = 5; i < reply.size(); i++) {
            drainDrop((byte[]) reply.get(i));
        }
        return result;
    }

    /**
     * Instances whose oldest missing seq was first missed at least {@code olderThanMs} ago (a gap that
     * late arrivals did not fill). The caller asks each to re-announce and then calls {@link #clearGaps}.
     */
    public List<String> instancesWithOverdueGaps(long olderThanMs) {
        long cutoff = System.currentTimeMillis() - olderThanMs;
        List<Object> reply = overdue.eval(prefixBytes, bytes(Long.toString(cutoff)));
        List<String> ids = new ArrayList<>(reply.size());
        for (Object id : reply) {
            ids.add(string(id));
        }
        return ids;
    }

    /** Forgets an instance's missing seqs (a re-announce was requested; its {@code cleared} repairs all). */
    public void clearGaps(String instanceId) {
        validateInstanceId(instanceId);
        connection.sync().del(bytes(prefix + "inst:" + instanceId + ":missing"));
    }

    /**
     * Removes an instance entirely (it died, or its registration expired): its blocks, state and gaps.
     * Its entries arriving later start it afresh, with a gap from seq 1 that asks for a re-announce.
     *
     * @return the blocks the instance held
     */
    public long dropInstance(String instanceId) {
        validateInstanceId(instanceId);
        List<Object> reply = dropInstance.eval(prefixBytes, bytes(instanceId));
        for (int i = 1; i < reply.size(); i++) {
            drainDrop((byte[]) reply.get(i));
        }
        return (Long) reply.get(0);
    }

    /**
     * Finishes every drop not yet drained (a replica crashed in the middle of one). Cheap when there is
     * none; call it at start-up and now and then.
     *
     * @return the block-instance pairs removed
     */
    public long drainPendingDrops() {
        long removed = 0;
        for (byte[] dropKey : connection.sync().hkeys(bytes(prefix + "drops"))) {
            removed += drainDrop(dropKey);
        }
        return removed;
    }

    /** The ids of the instances the index has state for. */
    public Set<String> indexedInstances() {
        Set<String> ids = new HashSet<>();
        for (byte[] id : connection.sync().smembers(bytes(prefix + "indexed"))) {
            ids.add(string(id));
        }
        return ids;
    }

    /** What the index knows about one instance, or empty when it has no state for it. */
    public Optional<InstanceState> state(String instanceId) {
        validateInstanceId(instanceId);
        List<Object> r = state.eval(prefixBytes, bytes(instanceId));
        if (r.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new InstanceState(instanceId, string(r.get(0)), Long.parseLong(string(r.get(1))),
                r.get(2) == null ? "" : string(r.get(2)), r.get(3) == null ? 0 : Long.parseLong(string(r.get(3))),
                (Long) r.get(4), (Long) r.get(5), (Long) r.get(6) == 1));
    }

    /**
     * For each given instance, how many leading blocks of {@code chain} it holds: block 0 up to (not
     * including) the first block it lacks. One script call (class comment, "Queries").
     *
     * @return every given instance (duplicates once), in the given order, with its count (0 for none)
     */
    public Map<String, Integer> longestPrefixes(List<BlockHash> chain, Collection<String> instanceIds) {
        List<String> candidates = candidates(instanceIds);
        if (candidates.isEmpty()) {
            return new LinkedHashMap<>();
        }
        return counts(candidates, longestPrefixes.eval(queryArgs(chain, candidates)));
    }

    /** {@link #longestPrefixes(List, Collection)} for several chains, pipelined in one batch. */
    public List<Map<String, Integer>> longestPrefixesBatch(List<List<BlockHash>> chains, Collection<String> instanceIds) {
        List<String> candidates = candidates(instanceIds);
        List<Map<String, Integer>> results = new ArrayList<>(chains.size());
        if (candidates.isEmpty()) {
            for (int i = 0; i < chains.size(); i++) {
                results.add(new LinkedHashMap<>());
            }
            return results;
        }
        List<RedisFuture<List<Object>>> futures = new ArrayList<>(chains.size());
        for (List<BlockHash> chain : chains) {
            futures.add(longestPrefixes.evalAsync(queryArgs(chain, candidates)));
        }
        for (int i = 0; i < chains.size(); i++) {
            List<Object> reply;
            try {
                reply = await(futures.get(i));
            } catch (RedisNoScriptException e) {
                reply = longestPrefixes.eval(queryArgs(chains.get(i), candidates));
            }
            results.add(counts(candidates, reply));
        }
        return results;
    }

    /** Distinct block hashes indexed (held by at least one instance). */
    public long numBlocks() {
        return counter("num-blocks");
    }

    /** Block-instance pairs indexed. */
    public long numEntries() {
        return counter("num-entries");
    }

    @Override
    public void close() {
        if (ownsConnection) {
            connection.close();
        }
    }

    private long drainDrop(byte[] dropKey) {
        long removed = 0;
        byte[] chunk = bytes(Integer.toString(DROP_CHUNK));
        while (true) {
            List<Object> reply = drain.eval(prefixBytes, dropKey, chunk);
            removed += (Long) reply.get(1);
            if ((Long) reply.get(0) == 0) {
                return removed;
            }
        }
    }

    private long counter(String name) {
        byte[] value = connection.sync().get(bytes(prefix + name));
        return value == null ? 0 : Long.parseLong(string(value));
    }

    private byte[][] queryArgs(List<BlockHash> chain, List<String> candidates) {
        byte[][] args = new byte[3 + candidates.size()][];
        args[0] = prefixBytes;
        args[1] = bytes(Integer.toString(candidates.size()));
        for (int c = 0; c < candidates.size(); c++) {
            args[2 + c] = bytes(candidates.get(c));
        }
        args[2 + candidates.size()] = concat(chain);
        return args;
    }

    private static List<String> candidates(Collection<String> instanceIds) {
        List<String> candidates = new ArrayList<>(new LinkedHashSet<>(instanceIds));
        for (String id : candidates) {
            validateInstanceId(id);
        }
        return candidates;
    }

    private static Map<String, Integer> counts(List<String> candidates, List<Object> reply) {
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (int c = 0; c < candidates.size(); c++) {
            counts.put(candidates.get(c), ((Long) reply.get(c)).intValue());
        }
        return counts;
    }

    private static void addOp(List<byte[]> args, byte[] op, List<BlockHash> hashes) {
        args.add(op);
        args.add(concat(hashes));
    }

    private static byte[] concat(List<BlockHash> hashes) {
        byte[] out = new byte[hashes.size() * BlockHash.NUM_BYTES];
        for (int i = 0; i < hashes.size(); i++) {
            hashes.get(i).writeTo(out, i * BlockHash.NUM_BYTES);
        }
        return out;
    }

    private static void validateInstanceId(String instanceId) {
        if (instanceId == null || instanceId.isBlank()) {
            throw new IllegalArgumentException("instance id is empty");
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String string(Object value) {
        return new String((byte[]) value, StandardCharsets.UTF_8);
    }

    private static <T> T await(RedisFuture<T> future) {
        try {
            return future.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for Redis", e);
        } catch (TimeoutException e) {
            throw new IllegalStateException("Redis did not answer in " + TIMEOUT_SECONDS + " s", e);
        }
    }

    /** A Lua script run by its SHA1 ({@code EVALSHA}), loaded on first use and again after NOSCRIPT. */
    private final class Script {
        private final byte[] source;
        private volatile String sha;

        Script(String source) {
            this.source = bytes(source);
        }

        List<Object> eval(byte[]... args) {
            try {
                return connection.sync().evalsha(sha(), ScriptOutputType.MULTI, NO_KEYS, args);
            } catch (RedisNoScriptException e) {
                sha = null;
                return connection.sync().evalsha(sha(), ScriptOutputType.MULTI, NO_KEYS, args);
            }
        }

        RedisFuture<List<Object>> evalAsync(byte[]... args) {
            return connection.async().evalsha(sha(), ScriptOutputType.MULTI, NO_KEYS, args);
        }

        private String sha() {
            String s = sha;
            if (s == null) {
                s = connection.sync().scriptLoad(source);
                sha = s;
            }
            return s;
        }
    }
}
