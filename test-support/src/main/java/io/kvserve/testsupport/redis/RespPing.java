package io.kvserve.testsupport.redis;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.OptionalLong;

/** PING over raw RESP, so the fixture can check a Redis without pulling a client library in. */
final class RespPing {

    private RespPing() {
    }

    /** True if {@code endpoint} answers {@code +PONG} within {@code timeout}. */
    static boolean ping(RedisEndpoint endpoint, Duration timeout) {
        try (Socket socket = send(endpoint, timeout, "*1\r\n$4\r\nPING\r\n")) {
            byte[] reply = socket.getInputStream().readNBytes(7);
            return "+PONG\r\n".equals(new String(reply, StandardCharsets.US_ASCII));
        } catch (IOException e) {
            return false;
        }
    }

    /** The {@code process_id} from {@code INFO server}, if the endpoint answers it. */
    static OptionalLong serverPid(RedisEndpoint endpoint, Duration timeout) {
        try (Socket socket = send(endpoint, timeout, "*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n")) {
            var in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
            String line;
            while ((line = in.readLine()) != null) {
                if (line.startsWith("process_id:")) {
                    return OptionalLong.of(Long.parseLong(line.substring("process_id:".length()).trim()));
                }
            }
        } catch (IOException | NumberFormatException e) {
            // fall through: unknown
        }
        return OptionalLong.empty();
    }

    /** A socket to {@code endpoint} that has sent {@code command}; connect and reads time out after {@code timeout}. */
    private static Socket send(RedisEndpoint endpoint, Duration timeout, String command) throws IOException {
        int timeoutMillis = (int) Math.max(1, timeout.toMillis());
        Socket socket = new Socket();
        try {
            socket.connect(new InetSocketAddress(endpoint.host(), endpoint.port()), timeoutMillis);
            socket.setSoTimeout(timeoutMillis);
            OutputStream out = socket.getOutputStream();
            out.write(command.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            return socket;
        } catch (IOException e) {
            socket.close();
            throw e;
        }
    }

    /** Polls until PONG, the process dies, or the timeout passes. */
    static void awaitPong(RedisEndpoint endpoint, Duration timeout, Process process) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IOException("process exited with code " + process.exitValue() + " before answering PING");
            }
            if (ping(endpoint, Duration.ofMillis(200))) {
                return;
            }
            try {
                Thread.sleep(25);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for redis-server", e);
            }
        }
        throw new IOException("no PONG on " + endpoint.uri() + " within " + timeout.toMillis() + " ms");
    }
}
