package io.kvserve.kvshare.index;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kvserve.kvshare.index.KvIndexBenchmark.Options;
import io.kvserve.kvshare.index.KvIndexBenchmark.UsageException;
import org.junit.jupiter.api.Test;

class KvIndexBenchmarkOptionsTest {

    @Test
    void parse_noArguments_defaults() {
        assertThat(Options.parse(new String[0]))
                .isEqualTo(new Options("redis://127.0.0.1:6379", 1_000_000, 16, 5_000, 4, 8, 1));
    }

    @Test
    void parse_spaceAndEqualsForms() {
        Options options = Options.parse(new String[] {"--redis-url", "redis://h:7000", "--blocks=2_000", "--instances", "4",
                "--queries", "10", "--ingest-threads=2", "--callers", "3", "--seed", "9"});

        assertThat(options).isEqualTo(new Options("redis://h:7000", 2_000, 4, 10, 2, 3, 9));
    }

    @Test
    void parse_badArguments_sayWhat() {
        assertThatThrownBy(() -> Options.parse(new String[] {"--blocks", "many"}))
                .isInstanceOf(UsageException.class).hasMessageContaining("--blocks takes a whole number");
        assertThatThrownBy(() -> Options.parse(new String[] {"--instances", "0"}))
                .isInstanceOf(UsageException.class).hasMessageContaining("--instances must be between 1");
        assertThatThrownBy(() -> Options.parse(new String[] {"--queries"}))
                .isInstanceOf(UsageException.class).hasMessageContaining("--queries needs a value");
        assertThatThrownBy(() -> Options.parse(new String[] {"--redis-url", "localhost:6379"}))
                .isInstanceOf(UsageException.class).hasMessageContaining("redis://host:port");
        assertThatThrownBy(() -> Options.parse(new String[] {"--frobnicate", "1"}))
                .isInstanceOf(UsageException.class).hasMessageContaining("unknown option '--frobnicate'");
        assertThatThrownBy(() -> Options.parse(new String[] {"--help"}))
                .isInstanceOf(UsageException.class).hasMessage(null);
    }
}
