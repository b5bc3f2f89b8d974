package io.kvserve.inference.platform;

import io.kvserve.inference.config.InstanceProperties;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.function.IntSupplier;

/**
 * Who this instance is on the platform: its id ({@code kvserve.instance.id}, or
 * {@code <hostname>-<port>-<4 random hex>}), its URL ({@code advertised-url}, or
 * {@code http://<hostname>:<port>}) and its epoch (16 random hex digits per start, so a restart is
 * distinguishable in the KV event stream). The id and URL are resolved on first use, after the web
 * server has bound its port.
 */
public final class InstanceIdentity {

    private final InstanceProperties properties;
    private final IntSupplier localPort;
    private final String epoch;
    private String id;
    private String url;

    /**
     * @param properties {@code kvserve.instance.*}
     * @param localPort  the port the server listens on, asked for on first use
     */
    public InstanceIdentity(InstanceProperties properties, IntSupplier localPort) {
        this.properties = properties;
        this.localPort = localPort;
        SecureRandom random = new SecureRandom();
        this.epoch = HexFormat.of().toHexDigits(random.nextLong());
    }

    public String epoch() {
        return epoch;
    }

    public synchronized String id() {
        if (id == null) {
            id = properties.id().isEmpty()
                    ? hostname() + "-" + localPort.getAsInt() + "-"
                            + HexFormat.of().toHexDigits((short) new SecureRandom().nextInt())
                    : properties.id();
        }
        return id;
    }

    public synchronized String url() {
        if (url == null) {
            url = properties.advertisedUrl().isEmpty()
                    ? "http://" + hostname() + ":" + localPort.getAsInt()
                    : properties.advertisedUrl();
        }
        return url;
    }

    private static String hostname() {
        String env = System.getenv("HOSTNAME");
        if (env != null && !env.isBlank()) {
            return env;
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "localhost";
        }
    }
}
