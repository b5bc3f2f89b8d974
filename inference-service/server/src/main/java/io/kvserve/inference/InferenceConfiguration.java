package io.kvserve.inference;

import io.kvserve.engine.kv.KvEventListener;
import io.kvserve.inference.config.ApiProperties;
import io.kvserve.inference.config.EngineProperties;
import io.kvserve.inference.config.InstanceProperties;
import io.kvserve.inference.metrics.InferenceMetrics;
import io.kvserve.inference.metrics.RequestObserver;
import io.kvserve.inference.model.ModelHost;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The engine's host; the web layer and the platform beans are wired around it. */
@Configuration(proxyBeanMethods = false)
class InferenceConfiguration {

    @Bean
    ModelHost modelHost(EngineProperties engine, InstanceProperties instance, ApiProperties api,
                        ObjectProvider<KvEventListener> kvEvents, ApplicationEventPublisher publisher) {
        return new ModelHost(engine, instance, api, kvEvents, publisher);
    }

    @Bean
    RequestObserver inferenceMetrics(MeterRegistry registry, ModelHost host, EngineProperties engine) {
        return new InferenceMetrics(registry, host, engine.modelName(), engine.maxModelLen() > 0 ? engine.maxModelLen() : 1 << 17);
    }
}
