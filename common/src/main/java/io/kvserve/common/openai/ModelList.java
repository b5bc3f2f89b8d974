package io.kvserve.common.openai;

import java.util.List;

/** {@code GET /v1/models}. */
public record ModelList(String object, List<Model> data) {

    public ModelList(List<Model> data) {
        this("list", data);
    }

    /**
     * @param maxModelLen vLLM's extension: most tokens per sequence
     */
    public record Model(String id, String object, long created, String ownedBy, Integer maxModelLen) {

        public Model(String id, long created, String ownedBy, Integer maxModelLen) {
            this(id, "model", created, ownedBy, maxModelLen);
        }
    }
}
