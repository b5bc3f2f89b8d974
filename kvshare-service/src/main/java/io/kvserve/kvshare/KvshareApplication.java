package io.kvserve.kvshare;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

/** kvshare: the shared prefix-cache index of every inference instance, in Redis, tenant-salted. */
@SpringBootApplication
@ConfigurationPropertiesScan
public class KvshareApplication {

    public static void main(String[] args) {
        SpringApplication.run(KvshareApplication.class, args);
    }
}
