package io.kvserve.scheduler;

import org.springframework.boot.Banner;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;
import org.springframework.context.annotation.PropertySource;

/** The scheduler: places each request on an instance by expected prefix hit and load. */
@SpringBootApplication
@ConfigurationPropertiesScan
@PropertySource("classpath:kvserve-scheduler.properties")
public class SchedulerApplication {

    public static void main(String[] args) {
        create().run(args);
    }

    /** The application as the launcher and main run it. */
    public static SpringApplication create() {
        SpringApplication app = new SpringApplication(SchedulerApplication.class);
        app.setBannerMode(Banner.Mode.OFF);
        return app;
    }
}
