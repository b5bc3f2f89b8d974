package io.kvserve.cli.benchserving;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import org.junit.jupiter.api.Test;

class ListenBacklogTest {

    static final List<String> TCP6 = List.of(
            "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
            "   0: 00000000000000000000000000000000:88DD 00000000000000000000000000000000:0000 0A 00000000:000001DE 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0",
            "   1: 0000000000000000FFFF00000100007F:88DD 0000000000000000FFFF00000100007F:A001 01 00000000:00000010 00:00000000 00000000     0        0 2 1 0 20 4 30 10 -1",
            "   2: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000003 00:00000000 00000000     0        0 3 1 0 100 0 0 10 0");

    @Test
    void of_listeningSocketOnThePort_isItsRxQueueAndTheConnectionsWithBytesUnread() {
        assertThat(BenchGatewayCommand.ListenBacklog.of(TCP6, 0x88DD)).isEqualTo(new BenchGatewayCommand.ListenBacklog(478, 1));
        assertThat(BenchGatewayCommand.ListenBacklog.of(TCP6, 8080)).isEqualTo(new BenchGatewayCommand.ListenBacklog(3, 0));
    }

    @Test
    void of_noListeningSocketOnThePort_isUnknown() {
        assertThat(BenchGatewayCommand.ListenBacklog.of(TCP6, 0xA001)).isEqualTo(BenchGatewayCommand.ListenBacklog.UNKNOWN);
        assertThat(BenchGatewayCommand.ListenBacklog.UNKNOWN).hasToString("n/a");
    }

    @Test
    void of_aRealListenerNobodyAccepts_countsTheWaitingConnections() throws IOException {
        try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
             Socket a = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
             Socket b = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort())) {
            BenchGatewayCommand.ListenBacklog backlog = BenchGatewayCommand.ListenBacklog.of(server.getLocalPort());
            // unknown where there is no /proc/net (not Linux)
            assertThat(backlog.acceptBacklog()).isIn(-1, 2);
        }
    }
}
