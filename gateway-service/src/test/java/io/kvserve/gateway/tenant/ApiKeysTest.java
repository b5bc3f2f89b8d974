package io.kvserve.gateway.tenant;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ApiKeysTest {

    @Test
    void newKey_always_hasPrefixAnd43Base62CharactersAndIsWellFormed() {
        Set<String> keys = new HashSet<>();
        for (int i = 0; i < 1000; i++) {
            String key = ApiKeys.newKey();
            assertThat(key).hasSize(50).startsWith("sk-kvs-").matches("sk-kvs-[0-9A-Za-z]{43}");
            assertThat(ApiKeys.wellFormed(key)).isTrue();
            keys.add(key);
        }
        assertThat(keys).hasSize(1000);
    }

    @Test
    void newKey_manyKeys_useEveryBase62Character() {
        Set<Character> seen = new HashSet<>();
        for (int i = 0; i < 200; i++) {
            for (char c : ApiKeys.newKey().substring(7).toCharArray()) {
                seen.add(c);
            }
        }
        assertThat(seen).hasSize(62);
    }

    @Test
    void masked_key_showsNineFirstAndThreeLastCharactersOnly() {
        String key = "sk-kvs-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefxyz";
        assertThat(ApiKeys.masked(key)).isEqualTo("sk-kvs-Ab***...xyz");
        assertThat(ApiKeys.masked("hunter2")).isEqualTo("***");
    }

    @Test
    void sha256Hex_knownInput_matchesTheStandardDigest() {
        assertThat(ApiKeys.sha256Hex("abc"))
                .isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    @Test
    void wellFormed_otherShapes_false() {
        assertThat(ApiKeys.wellFormed("sk-proj-abc")).isFalse();
        assertThat(ApiKeys.wellFormed("sk-kvs-" + "!".repeat(43))).isFalse();
        assertThat(ApiKeys.wellFormed(ApiKeys.newKey() + "x")).isFalse();
    }

    @Test
    void newKeyId_always_startsWithKeyUnderscore() {
        assertThat(ApiKeys.newKeyId()).matches("key_[0-9A-Za-z]{16}");
    }
}
