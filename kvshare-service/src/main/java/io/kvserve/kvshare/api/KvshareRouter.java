package io.kvserve.kvshare.api;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.RouterFunctions;
import org.springframework.web.reactive.function.server.ServerResponse;

/** The routes of kvshare's API. */
@Configuration(proxyBeanMethods = false)
class KvshareRouter {

    @Bean
    RouterFunction<ServerResponse> kvshareRoutes(KvshareHandler handler) {
        return RouterFunctions.route()
                .POST("/v1/hits", handler::hits)
                .GET("/v1/admin/tenants", handler::listTenants)
                .PUT("/v1/admin/tenants/{tenant}", handler::createTenant)
                .DELETE("/v1/admin/tenants/{tenant}", handler::deleteTenant)
                .GET("/v1/admin/published/{model}", handler::listPublished)
                .PUT("/v1/admin/published/{model}/{name}", handler::publish)
                .DELETE("/v1/admin/published/{model}/{name}", handler::deletePublished)
                .GET("/v1/stats", handler::stats)
                .GET("/v1/stats/tenants/{tenant}", handler::tenantStats)
                .build();
    }
}
