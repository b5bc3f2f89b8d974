package io.kvserve.deploy;

import static io.kvserve.deploy.Deployment.map;
import static org.assertj.core.api.Assertions.assertThat;

import io.kvserve.cli.KvserveCli;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * The Jib configuration in cli/pom.xml against what compose and bin/kvserve expect of the image: the
 * launcher's main class, bin/kvserve's JVM flags, every service's port, the tag compose runs, and the
 * build command the docs give.
 */
class JibImageTest {

    private static Element jib;
    private static String pluginVersion;

    @BeforeAll
    static void load() throws Exception {
        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        Document pom = factory.newDocumentBuilder().parse(Deployment.root().resolve("cli/pom.xml").toFile());
        NodeList plugins = pom.getElementsByTagName("plugin");
        for (int i = 0; i < plugins.getLength(); i++) {
            Element plugin = (Element) plugins.item(i);
            if (text(plugin, "artifactId").equals("jib-maven-plugin")) {
                jib = plugin;
                pluginVersion = text(plugin, "version");
            }
        }
        assertThat(jib).as("cli/pom.xml configures jib-maven-plugin").isNotNull();
    }

    private static String text(Element parent, String tag) {
        NodeList nodes = parent.getElementsByTagName(tag);
        return nodes.getLength() == 0 ? "" : nodes.item(0).getTextContent().trim();
    }

    private static List<String> texts(Element parent, String tag) {
        List<String> values = new ArrayList<>();
        NodeList nodes = parent.getElementsByTagName(tag);
        for (int i = 0; i < nodes.getLength(); i++) {
            values.add(nodes.item(i).getTextContent().trim());
        }
        return values;
    }

    @Test
    void image_runsTheLauncherWithBinKvservesJvmFlags() throws Exception {
        assertThat(text(jib, "mainClass")).isEqualTo(KvserveCli.class.getName());
        assertThat(text(jib, "from")).startsWith("eclipse-temurin:25-jre");
        // bin/kvserve: JVM_OPTS=(--enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector ...)
        String launcher = Files.readString(Deployment.root().resolve("bin/kvserve"));
        Matcher options = Pattern.compile("JVM_OPTS=\\((--enable-native-access=\\S+) --add-modules (\\S+)").matcher(launcher);
        assertThat(options.find()).as("bin/kvserve's JVM_OPTS").isTrue();
        assertThat(texts(jib, "jvmFlag")).contains(options.group(1), "--add-modules=" + options.group(2));
        // model-init runs java itself, with the same flags
        String modelInit = String.join(" ", Deployment.words(map(map(Deployment.loadYaml(Deployment.composeFile())
                .get("services")).get("model-init")).get("command")));
        assertThat(modelInit).contains(options.group(1), "--add-modules=" + options.group(2));
    }

    @Test
    void image_exposesEveryServicesPort() {
        List<String> ports = texts(jib, "port");
        for (String subcommand : Deployment.SERVICE_DEFAULTS.keySet()) {
            assertThat(ports).as("%s's server.port", subcommand)
                    .contains(Deployment.serviceDefaults(subcommand).getProperty("server.port"));
        }
    }

    @Test
    void image_isTaggedAsComposeRunsIt() {
        assertThat(text(jib, "to")).startsWith("kvserve:${project.version}");
        assertThat(texts(jib, "tag")).contains("latest");
        Map<String, Object> services = map(Deployment.loadYaml(Deployment.composeFile()).get("services"));
        services.values().stream().map(s -> String.valueOf(map(s).get("image")))
                .filter(image -> image.startsWith("kvserve:"))
                .forEach(image -> assertThat(image).isEqualTo("kvserve:latest"));
    }

    @Test
    void buildCommand_inDocsAndCompose_namesThePluginVersion() throws Exception {
        String goal = "com.google.cloud.tools:jib-maven-plugin:" + pluginVersion + ":buildTar";
        for (String file : List.of("docs/deploy.md", "docker-compose.yml")) {
            String text = Files.readString(Deployment.root().resolve(file));
            assertThat(text).as(file).contains(goal, "-Djib.containerize=io.kvserve:kvserve-cli",
                    "docker load -i cli/target/jib-image.tar");
        }
    }
}
