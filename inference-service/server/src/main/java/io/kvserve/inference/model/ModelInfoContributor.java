package io.kvserve.inference.model;

import java.util.Locale;
import org.springframework.boot.actuate.info.Info;
import org.springframework.boot.actuate.info.InfoContributor;
import org.springframework.stereotype.Component;

/** {@code /actuator/info}: the model, its architecture and dtype, the backend, context length, KV capacity. */
@Component
public class ModelInfoContributor implements InfoContributor {

    private final ModelHost host;

    public ModelInfoContributor(ModelHost host) {
        this.host = host;
    }

    @Override
    public void contribute(Info.Builder builder) {
        builder.withDetail("state", host.state().name().toLowerCase(Locale.ROOT));
        host.served().ifPresent(m -> {
            ModelInfo info = m.info();
            builder.withDetail("model", info);
            builder.withDetail("kvCapacityTokens", info.kvCapacityTokens());
        });
    }
}
