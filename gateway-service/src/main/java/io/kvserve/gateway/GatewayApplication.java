package io.kvserve.gateway;

import org.springframework.boot.Banner;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;
import org.springframework.context.annotation.PropertySource;

/** The gateway: the tenants' one door — keys, quotas, validation, placement, streaming, resilience. */
@SpringBootApplication
@ConfigurationPropertiesScan
@PropertySource("classpath:kvserve-gateway.properties")
public class GatewayApplication {

    public static void main(String[] args) {
        create().run(args);
    }

    /** The application as the launcher and main run it. */
    public static SpringApplication create() {
        SpringApplication app = new SpringApplication(GatewayApplication.class);
        app.setBannerMode(Banner.Mode.OFF);
        return app;
    }
}
