package io.kvserve.gateway.admin;

import static org.springframework.web.reactive.function.server.RequestPredicates.DELETE;
import static org.springframework.web.reactive.function.server.RequestPredicates.GET;
import static org.springframework.web.reactive.function.server.RequestPredicates.PATCH;
import static org.springframework.web.reactive.function.server.RequestPredicates.POST;

import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.RouterFunctions;
import org.springframework.web.reactive.function.server.ServerResponse;

/** The operator API's routes (docs: gateway-service/README.md). */
public final class AdminRoutes {

    /** The path every admin route starts with. */
    public static final String BASE = "/admin/v1";

    private AdminRoutes() {
    }

    public static RouterFunction<ServerResponse> routes(AdminHandler handler) {
        return RouterFunctions.route()
                .route(POST(BASE + "/tenants"), handler::createTenant)
                .route(GET(BASE + "/tenants"), handler::listTenants)
                .route(GET(BASE + "/tenants/{id}"), handler::getTenant)
                .route(PATCH(BASE + "/tenants/{id}"), handler::patchTenant)
                .route(POST(BASE + "/tenants/{id}/keys"), handler::createKey)
                .route(GET(BASE + "/tenants/{id}/keys"), handler::listKeys)
                .route(PATCH(BASE + "/tenants/{id}/keys/{keyId}"), handler::patchKey)
                .route(DELETE(BASE + "/tenants/{id}/keys/{keyId}"), handler::deleteKey)
                .route(GET(BASE + "/tenants/{id}/usage"), handler::usage)
                .build();
    }
}
