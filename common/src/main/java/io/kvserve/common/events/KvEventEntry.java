package io.kvserve.common.events;

import io.kvserve.common.kvcache.BlockHash;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * One entry of the KV event stream ({@link RedisKeys#DEFAULT_KV_EVENT_STREAM}): a batch of prefix-cache
 * changes of one instance, in the order they happened. Its stream fields, all strings:
 * <pre>
 *   instance  the instance id
 *   epoch     random id chosen at instance start; a new epoch means a restart
 *   seq       1, 2, 3, ... per (instance, epoch), one per entry; a jump means entries were lost
 *   model     the served model name
 *   ts        publish time, epoch ms
 *   events    JSON array of {@link KvStreamEvent}s
 * </pre>
 * See {@code docs/redis-schema.md} for the consumer's rules (reset, gaps, re-announce).
 *
 * @param instance the publishing instance's id
 * @param epoch    the instance's epoch
 * @param seq      the entry's sequence number in its epoch, from 1
 * @param model    the served model
 * @param tsMs     publish time, epoch ms
 * @param events   the changes, oldest first
 */
public record KvEventEntry(String instance, String epoch, long seq, String model, long tsMs,
                           List<KvStreamEvent> events) {

    public static final String FIELD_INSTANCE = "instance";
    public static final String FIELD_EPOCH = "epoch";
    public static final String FIELD_SEQ = "seq";
    public static final String FIELD_MODEL = "model";
    public static final String FIELD_TS = "ts";
    public static final String FIELD_EVENTS = "events";

    private static final JsonMapper JSON = JsonMapper.builder().build();

    public KvEventEntry {
        Objects.requireNonNull(instance, "instance");
        Objects.requireNonNull(epoch, "epoch");
        Objects.requireNonNull(model, "model");
        events = List.copyOf(events);
        if (seq < 1) {
            throw new IllegalArgumentException("seq starts at 1, got " + seq);
        }
    }

    /** The stream entry's fields, in the documented order. */
    public Map<String, String> toFields() {
        Map<String, String> fields = new LinkedHashMap<>();
        fields.put(FIELD_INSTANCE, instance);
        fields.put(FIELD_EPOCH, epoch);
        fields.put(FIELD_SEQ, Long.toString(seq));
        fields.put(FIELD_MODEL, model);
        fields.put(FIELD_TS, Long.toString(tsMs));
        fields.put(FIELD_EVENTS, encodeEvents(events));
        return fields;
    }

    /**
     * Parses a stream entry's fields.
     *
     * @throws IllegalArgumentException when a field is missing or malformed
     */
    public static KvEventEntry fromFields(Map<String, String> fields) {
        try {
            return new KvEventEntry(required(fields, FIELD_INSTANCE), required(fields, FIELD_EPOCH),
                    Long.parseLong(required(fields, FIELD_SEQ)), required(fields, FIELD_MODEL),
                    Long.parseLong(required(fields, FIELD_TS)), decodeEvents(required(fields, FIELD_EVENTS)));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("malformed KV event entry " + fields + ": " + e.getMessage(), e);
        }
    }

    /** The {@code events} field: a JSON array, snake_case keys, hashes as 32 lowercase hex digits. */
    public static String encodeEvents(List<KvStreamEvent> events) {
        ArrayNode array = JSON.createArrayNode();
        for (KvStreamEvent event : events) {
            ObjectNode node = array.addObject();
            switch (event) {
                case KvStreamEvent.Stored s -> {
                    node.put("type", "stored");
                    putHashes(node, s.blockHashes());
                    if (s.parentHash().isPresent()) {
                        node.put("parent_hash", s.parentHash().get().toHex());
                    } else {
                        node.putNull("parent_hash");
                    }
                    node.put("block_size", s.blockSize());
                }
                case KvStreamEvent.Removed r -> {
                    node.put("type", "removed");
                    putHashes(node, r.blockHashes());
                }
                case KvStreamEvent.Cleared c -> node.put("type", "cleared");
                case KvStreamEvent.Reset r -> node.put("type", "reset");
            }
        }
        return JSON.writeValueAsString(array);
    }

    /**
     * Parses an {@code events} field.
     *
     * @throws IllegalArgumentException on malformed JSON, an unknown type or a bad hash
     */
    public static List<KvStreamEvent> decodeEvents(String json) {
        JsonNode array;
        try {
            array = JSON.readTree(json);
        } catch (JacksonException e) {
            throw new IllegalArgumentException("events is not JSON: " + e.getOriginalMessage(), e);
        }
        if (array == null || !array.isArray()) {
            throw new IllegalArgumentException("events must be a JSON array, got " + json);
        }
        List<KvStreamEvent> events = new ArrayList<>(array.size());
        for (JsonNode node : array) {
            String type = node.path("type").asString("");
            events.add(switch (type) {
                case "stored" -> {
                    JsonNode parent = node.path("parent_hash");
                    Optional<BlockHash> parentHash = parent.isMissingNode() || parent.isNull()
                            ? Optional.empty() : Optional.of(BlockHash.fromHex(parent.asString()));
                    yield new KvStreamEvent.Stored(hashes(node), parentHash, node.path("block_size").asInt(0));
                }
                case "removed" -> new KvStreamEvent.Removed(hashes(node));
                case "cleared" -> new KvStreamEvent.Cleared();
                case "reset" -> new KvStreamEvent.Reset();
                default -> throw new IllegalArgumentException("unknown KV event type '" + type + "' in " + node);
            });
        }
        return events;
    }

    private static void putHashes(ObjectNode node, List<BlockHash> hashes) {
        ArrayNode array = node.putArray("block_hashes");
        for (BlockHash hash : hashes) {
            array.add(hash.toHex());
        }
    }

    private static List<BlockHash> hashes(JsonNode node) {
        JsonNode array = node.path("block_hashes");
        if (!array.isArray()) {
            throw new IllegalArgumentException("block_hashes must be an array in " + node);
        }
        List<BlockHash> hashes = new ArrayList<>(array.size());
        for (JsonNode hex : array) {
            hashes.add(BlockHash.fromHex(hex.asString()));
        }
        return hashes;
    }

    private static String required(Map<String, String> fields, String name) {
        String value = fields.get(name);
        if (value == null) {
            throw new IllegalArgumentException("KV event entry lacks the field '" + name + "': " + fields);
        }
        return value;
    }
}
