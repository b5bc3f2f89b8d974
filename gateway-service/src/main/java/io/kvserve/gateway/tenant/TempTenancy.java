package io.kvserve.gateway.tenant;

import io.kvserve.gateway.quota.QuotaService;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** TEMPORARY stand-in until the tenancy branch lands. */
@Configuration(proxyBeanMethods = false)
class TempTenancy {
    @Bean
    KeyAuthenticator keyAuthenticator() {
        return new KeyAuthenticator();
    }

    @Bean
    QuotaService quotaService() {
        return new QuotaService();
    }
}
