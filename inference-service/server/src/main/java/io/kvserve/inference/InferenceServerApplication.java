package io.kvserve.inference;

import org.springframework.boot.Banner;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;
import org.springframework.context.annotation.PropertySource;

/** One inference instance: the engine behind an OpenAI-compatible API. */
@SpringBootApplication
@ConfigurationPropertiesScan
@PropertySource("classpath:kvserve-inference.properties")
public class InferenceServerApplication {

    public static void main(String[] args) {
        create().run(args);
    }

    /** The application as the launcher and main run it (no banner: the log says what started). */
    public static SpringApplication create() {
        SpringApplication app = new SpringApplication(InferenceServerApplication.class);
        app.setBannerMode(Banner.Mode.OFF);
        return app;
    }
}
