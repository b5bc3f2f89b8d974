package io.kvserve.kvshare;

import org.springframework.boot.Banner;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;
import org.springframework.context.annotation.PropertySource;

/** kvshare: the shared prefix-cache index of every inference instance, in Redis, tenant-salted. */
@SpringBootApplication
@ConfigurationPropertiesScan
@PropertySource("classpath:kvserve-kvshare.properties")
public class KvshareApplication {

    public static void main(String[] args) {
        create().run(args);
    }

    /** The application as the launcher and main run it (no banner: the log says what started). */
    public static SpringApplication create() {
        SpringApplication app = new SpringApplication(KvshareApplication.class);
        app.setBannerMode(Banner.Mode.OFF);
        return app;
    }
}
