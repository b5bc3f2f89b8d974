package io.kvserve.inference.api;

import io.kvserve.inference.config.ApiProperties;
import io.kvserve.inference.config.InstanceProperties;
import io.kvserve.inference.metrics.RequestObserver;
import io.kvserve.inference.model.ModelHost;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.RouterFunctions;
import org.springframework.web.reactive.function.server.ServerResponse;

/** The routes: OpenAI's public endpoints and the gateway's internal one. */
@Configuration(proxyBeanMethods = false)
class OpenAiRouter {

    @Bean
    OpenAiHandler openAiHandler(ModelHost host, ApiProperties api, InstanceProperties instance, RequestObserver observer) {
        return new OpenAiHandler(host, api, instance, observer);
    }

    @Bean
    RouterFunction<ServerResponse> openAiRoutes(OpenAiHandler handler) {
        return RouterFunctions.route()
                .POST("/v1/chat/completions", handler::chatCompletions)
                .POST("/v1/completions", handler::completions)
                .GET("/v1/models", handler::models)
                .POST("/internal/v1/generate", handler::generate)
                .build();
    }
}
