package io.kvserve.inference;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

/** One inference instance: the engine behind an OpenAI-compatible API. */
@SpringBootApplication
@ConfigurationPropertiesScan
public class InferenceServerApplication {

    public static void main(String[] args) {
        SpringApplication.run(InferenceServerApplication.class, args);
    }
}
