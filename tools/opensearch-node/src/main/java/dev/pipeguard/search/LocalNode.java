package dev.pipeguard.search;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import org.opensearch.analysis.common.CommonAnalysisPlugin;
import org.opensearch.common.logging.LogConfigurator;
import org.opensearch.common.settings.Settings;
import org.opensearch.env.Environment;
import org.opensearch.http.HttpServerTransport;
import org.opensearch.index.reindex.ReindexPlugin;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.painless.PainlessPlugin;
import org.opensearch.plugins.Plugin;
import org.opensearch.transport.Netty4Plugin;

/**
 * A single-node OpenSearch cluster on 127.0.0.1, with the netty4 transport, the common analysis
 * components, painless and reindex (delete/update by query) loaded from the classpath.
 *
 * <p>Usage: {@code LocalNode DATA_DIR URL_FILE [OWNER_PID]}. The node keeps its data under
 * DATA_DIR, binds HTTP to a free port and, once it serves requests, writes its URL
 * ({@code http://127.0.0.1:PORT}) to URL_FILE. It stops on SIGTERM, or when the process OWNER_PID
 * ends.
 */
public final class LocalNode extends Node {
    private static final List<Class<? extends Plugin>> PLUGINS =
            List.of(
                    Netty4Plugin.class,
                    CommonAnalysisPlugin.class,
                    PainlessPlugin.class,
                    ReindexPlugin.class);

    private LocalNode(Environment environment) {
        super(environment, PLUGINS, true);
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 2 || args.length > 3) {
            System.err.println("usage: LocalNode DATA_DIR URL_FILE [OWNER_PID]");
            System.exit(2);
        }
        Path dataDir = Path.of(args[0]).toAbsolutePath();
        Path urlFile = Path.of(args[1]).toAbsolutePath();
        Files.createDirectories(dataDir.resolve("config"));

        Settings settings = Settings.builder()
                .put("cluster.name", "pipeguard-test")
                .put("node.name", "local")
                .put("path.home", dataDir.toString())
                .put("path.data", dataDir.resolve("data").toString())
                .put("path.logs", dataDir.resolve("logs").toString())
                .put("network.host", "127.0.0.1")
                .put("http.port", "0")
                .put("transport.port", "0")
                .put("discovery.type", "single-node")
                .put("cluster.routing.allocation.disk.threshold_enabled", false)
                .put("logger.level", "WARN")
                .build();
        LogConfigurator.configureWithoutConfig(settings);
        Environment environment = InternalSettingsPreparer.prepareEnvironment(
                settings, Map.of(), dataDir.resolve("config"), () -> "local");

        Node node = new LocalNode(environment);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
            } catch (IOException e) {
                e.printStackTrace();
            } finally {
                stopped.countDown();
            }
        }, "local-node-shutdown"));
        node.start();

        int port = node.injector().getInstance(HttpServerTransport.class)
                .boundAddress().publishAddress().getPort();
        Path partial = urlFile.resolveSibling(urlFile.getFileName() + ".partial");
        Files.writeString(partial, "http://127.0.0.1:" + port + "\n", StandardCharsets.UTF_8);
        Files.move(partial, urlFile, StandardCopyOption.ATOMIC_MOVE,
                StandardCopyOption.REPLACE_EXISTING);

        if (args.length == 3) {
            ProcessHandle.of(Long.parseLong(args[2])).ifPresentOrElse(
                    owner -> owner.onExit().thenRun(() -> System.exit(0)),
                    () -> System.exit(0));
        }
        stopped.await();
    }
}
