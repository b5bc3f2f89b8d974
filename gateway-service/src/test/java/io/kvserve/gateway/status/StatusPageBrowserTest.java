package io.kvserve.gateway.status;

import static org.assertj.core.api.Assertions.assertThat;

import io.kvserve.common.events.InstanceRegistration;
import io.kvserve.common.events.InstanceStatus;
import io.kvserve.common.events.RedisKeys;
import io.kvserve.gateway.GatewayApplication;
import io.kvserve.testsupport.redis.RealRedis;
import io.kvserve.testsupport.redis.RedisEndpoint;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;
import org.springframework.context.ConfigurableApplicationContext;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

/**
 * The status page in a real headless Chromium (Debian's {@code chromium} and {@code chromium-driver},
 * driven by Selenium; nothing is downloaded): a real gateway on real Redis with a registered instance
 * and a tenant, and one streamed request routed through it with the tenant's key (a stub answers as the
 * scheduler and the instance: no inference), so what the page shows of it came the real way, through
 * {@code CallAccounting}. The page is opened, a wrong token is refused on the login form, the right one
 * shows the instance (breaker, hit rate), the tenant (today's usage) and the request, the page refreshes
 * by itself, and a token that stops working sends it back to the login form. Screenshots go to
 * {@code target/status-page*.png}.
 *
 * <p>Skipped when chromium or chromedriver is absent, unless {@value #REQUIRED_VARIABLE}=1 (CI), then
 * it fails. Other binaries: {@code KVSERVE_TEST_CHROMIUM}, {@code KVSERVE_TEST_CHROMEDRIVER}.
 */
@RealRedis
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StatusPageBrowserTest {

    static final String REQUIRED_VARIABLE = "KVSERVE_TEST_BROWSER_REQUIRED";
    private static final String TOKEN = "status-operator-" + UUID.randomUUID();
    private static final Duration WAIT = Duration.ofSeconds(20);

    private final String run = UUID.randomUUID().toString().substring(0, 8);
    private final String instanceId = "browser-" + run;
    private final String tenantId = "acme-" + run;
    private final HttpClient http = HttpClient.newHttpClient();
    private RedisClient redisClient;
    private StatefulRedisConnection<String, String> redis;
    private ConfigurableApplicationContext gateway;
    private String gatewayUrl;
    private WebDriver driver;
    private DisposableServer upstream;
    /** Why the browser test cannot run here; null when it can. */
    private String noBrowser;

    @BeforeAll
    void start(RedisEndpoint endpoint) throws Exception {
        Path chromium = binary("KVSERVE_TEST_CHROMIUM", "/usr/bin/chromium");
        Path chromedriver = binary("KVSERVE_TEST_CHROMEDRIVER", "/usr/bin/chromedriver");
        if (chromium == null || chromedriver == null) {
            System.err.println("StatusPageBrowserTest skipped: " + noBrowser);
            return;
        }

        upstream = upstream();
        redisClient = RedisClient.create(endpoint.uri());
        redis = redisClient.connect();
        register(3, 1, 0.42);
        gateway = GatewayApplication.create().run("--server.port=0", "--gateway.redis.url=" + endpoint.uri(),
                "--gateway.redis.key-prefix=kvserve-test:status-" + run + ":",
                "--gateway.admin.operator-token=" + TOKEN,
                "--gateway.routing.scheduler-url=http://127.0.0.1:" + upstream.port(),
                "--gateway.routing.models-refresh=200ms",
                "--spring.application.name=status-test-gateway",
                // Selenium warns that it has no CDP bindings for this Chromium; the test uses WebDriver only
                "--logging.level.org.openqa.selenium.chromium=ERROR");
        gatewayUrl = "http://127.0.0.1:" + gateway.getEnvironment().getProperty("local.server.port");
        HttpResponse<String> created = http.send(HttpRequest.newBuilder(URI.create(gatewayUrl + "/admin/v1/tenants"))
                .header("Authorization", "Bearer " + TOKEN).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("""
                        {"id":"%s","name":"Acme Corp","weight":2,"limits":{"requests_per_minute":600,\
                        "tokens_per_minute":200000,"max_concurrent_streams":32}}""".formatted(tenantId)))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        routeOneRequest();

        ChromeOptions options = new ChromeOptions();
        options.setBinary(chromium.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1440,1000", "--lang=en-US", "--no-first-run", "--disable-extensions");
        // the driver given explicitly: Selenium Manager is then skipped and downloads nothing
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(chromedriver.toFile()).usingAnyFreePort().build();
        driver = new ChromeDriver(service, options);
    }

    /**
     * The scheduler and the instance, as far as one request needs them: the model list, a placement on
     * {@link #instanceId} with a predicted hit of 48 tokens, and a stream whose usage says 48 of its 120
     * prompt tokens came from the prefix cache.
     */
    private DisposableServer upstream() {
        String model = "tiny-" + run;
        return HttpServer.create().host("127.0.0.1").port(0).route(routes -> routes
                .get("/v1/models", (req, res) -> res.header("content-type", "application/json").sendString(Mono.just(
                        "{\"object\":\"list\",\"data\":[{\"id\":\"" + model + "\",\"object\":\"model\","
                                + "\"created\":0,\"owned_by\":\"kvserve\",\"max_model_len\":4096}]}")))
                .post("/v1/place", (req, res) -> res.header("content-type", "application/json")
                        .sendString(Mono.fromSupplier(() -> "{\"request_id\":\"req-" + run
                                + "\",\"model\":\"" + model + "\",\"instance\":{\"id\":\"" + instanceId
                                + "\",\"url\":\"" + instanceUrl() + "\"},"
                                + "\"fallbacks\":[],\"prompt_token_ids\":[1,2,3],\"num_published_blocks\":0,"
                                + "\"cache_salt\":\"AAAA\",\"cache_salt_source\":\"tenant\",\"predicted_hit_tokens\":48,"
                                + "\"policy\":\"test\",\"reason\":\"test\",\"kvshare\":\"ok\"}")))
                .post("/v1/outcomes", (req, res) -> res.status(204).send())
                .post("/instance/internal/v1/generate", (req, res) -> res.header("content-type", "text/event-stream")
                        .sendString(Flux.just(
                                "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}\n\n",
                                "data: {\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":120,"
                                        + "\"completion_tokens\":16,\"total_tokens\":136,"
                                        + "\"prompt_tokens_details\":{\"cached_tokens\":48}}}\n\n",
                                "data: [DONE]\n\n"))))
                .bindNow();
    }

    /** A streamed chat completion through the gateway, with a key of the tenant, read to its end. */
    private void routeOneRequest() throws Exception {
        HttpResponse<String> key = http.send(HttpRequest.newBuilder(URI.create(gatewayUrl + "/admin/v1/tenants/"
                        + tenantId + "/keys")).header("Authorization", "Bearer " + TOKEN)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"browser-test\"}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(key.statusCode()).as(key.body()).isEqualTo(201);
        String secret = tools.jackson.databind.json.JsonMapper.shared().readTree(key.body()).path("key").asString();
        String body = "{\"model\":\"tiny-" + run + "\",\"stream\":true,\"max_tokens\":16,"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}";
        long deadline = System.nanoTime() + WAIT.toNanos();
        HttpResponse<String> answer;
        do { // until the gateway's model list has the model (refreshed every 200 ms)
            answer = http.send(HttpRequest.newBuilder(URI.create(gatewayUrl + "/v1/chat/completions"))
                    .header("Authorization", "Bearer " + secret).header("Content-Type", "application/json")
                    .header("x-request-id", "req-" + run).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                    HttpResponse.BodyHandlers.ofString());
        } while (answer.statusCode() == 404 && System.nanoTime() < deadline && sleep());
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        assertThat(answer.body()).contains("hi").endsWith("data: [DONE]\n\n");
    }

    private static boolean sleep() throws InterruptedException {
        Thread.sleep(100);
        return true;
    }

    /**
     * The binary at the variable's path, else the default one, else the same name on PATH; null (and
     * {@link #noBrowser} says why) without it, or, where {@value #REQUIRED_VARIABLE}=1, a failure.
     */
    private Path binary(String variable, String fallback) {
        String configured = System.getenv(variable);
        Path path = Path.of(configured != null && !configured.isBlank() ? configured : fallback);
        if (!Files.isExecutable(path) && (configured == null || configured.isBlank())) {
            // not where Debian puts it: the same name elsewhere on PATH will do
            String name = path.getFileName().toString();
            for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
                if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, name))) {
                    path = Path.of(dir, name);
                    break;
                }
            }
        }
        if (!Files.isExecutable(path)) {
            String why = path + " is not there: the browser test needs Debian's chromium and chromium-driver "
                    + "(apt-get install -y chromium chromium-driver), or " + variable + " set to another binary";
            if ("1".equals(System.getenv(REQUIRED_VARIABLE))) {
                throw new IllegalStateException(REQUIRED_VARIABLE + "=1: " + why);
            }
            noBrowser = noBrowser == null ? why : noBrowser + "; " + why;
            return null;
        }
        return path;
    }

    @BeforeEach
    void browserThere() {
        Assumptions.assumeTrue(noBrowser == null, () -> noBrowser);
    }

    private String instanceUrl() {
        return "http://127.0.0.1:" + upstream.port() + "/instance";
    }

    private void register(int numRunning, int numWaiting, double kvCacheUsage) {
        long now = System.currentTimeMillis();
        InstanceRegistration registration = new InstanceRegistration(instanceId, instanceUrl(),
                "tiny-" + run, "llama", 16, 256, 4096, 4096, "e1", now - 60_000, now, numRunning, numWaiting,
                kvCacheUsage, 87.5, InstanceStatus.READY);
        redis.sync().hset(RedisKeys.instance(instanceId), registration.toHash());
        redis.sync().pexpire(RedisKeys.instance(instanceId), 600_000);
        redis.sync().zadd(RedisKeys.INSTANCES, now, instanceId);
    }

    @AfterAll
    void stop() {
        if (driver != null) {
            driver.quit();
        }
        if (gateway != null) {
            gateway.close();
        }
        if (upstream != null) {
            upstream.disposeNow();
        }
        if (redis != null) {
            redis.sync().zrem(RedisKeys.INSTANCES, instanceId);
            redis.sync().del(RedisKeys.instance(instanceId));
            List<String> keys = redis.sync().keys("kvserve-test:status-" + run + ":*");
            if (!keys.isEmpty()) {
                redis.sync().del(keys.toArray(String[]::new));
            }
            redis.close();
            redisClient.shutdown();
        }
    }

    private WebElement visible(By by) {
        return new WebDriverWait(driver, WAIT).until(ExpectedConditions.visibilityOfElementLocated(by));
    }

    private static String cell(WebElement row, String cls) {
        return row.findElement(By.cssSelector("td." + cls)).getText();
    }

    private void signIn(String token) {
        WebElement input = visible(By.id("token"));
        input.clear();
        input.sendKeys(token);
        driver.findElement(By.id("login-submit")).click();
    }

    private Path screenshot(String name) throws IOException {
        Path target = Path.of("target", name).toAbsolutePath();
        Files.createDirectories(target.getParent());
        File png = ((TakesScreenshot) driver).getScreenshotAs(OutputType.FILE);
        Files.copy(png.toPath(), target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        System.out.println("status page screenshot: " + target);
        return target;
    }

    @Test
    void statusPage_wrongTokenRefused_rightTokenShowsInstanceTenantAndRequests() throws Exception {
        register(3, 1, 0.42); // a heartbeat now: starting the gateway and the browser took a while
        driver.get(gatewayUrl + "/status");
        assertThat(driver.getTitle()).isEqualTo("kvserve gateway status");
        assertThat(driver.findElement(By.id("dashboard")).isDisplayed()).isFalse();

        signIn("not-the-operator-token");
        WebElement error = visible(By.id("login-error"));
        assertThat(error.getText()).contains("401").contains("wrong");
        assertThat(driver.findElement(By.id("dashboard")).isDisplayed()).isFalse();
        screenshot("status-page-wrong-token.png");

        signIn(TOKEN);
        WebElement row = visible(By.cssSelector("#instances tr[data-instance-id='" + instanceId + "']"));
        assertThat(driver.findElement(By.id("login")).isDisplayed()).isFalse();
        assertThat(row.getText()).contains(instanceId).contains("tiny-" + run).contains(instanceUrl());
        assertThat(cell(row, "status")).isEqualTo("ready");
        assertThat(cell(row, "running")).isEqualTo("3");
        assertThat(cell(row, "waiting")).isEqualTo("1");
        assertThat(cell(row, "kv")).isEqualTo("42%");
        assertThat(cell(row, "tps")).isEqualTo("87.5");
        assertThat(cell(row, "breaker")).isEqualTo("closed");
        assertThat(row.findElement(By.cssSelector("td.heartbeat")).getAttribute("class")).doesNotContain("stale");
        assertThat(cell(row, "hits")).isEqualTo("40%\n1 req"); // 48 cached of 120 prompt tokens
        assertThat(visible(By.id("redis-state")).getText()).isEqualTo("Redis up");
        assertThat(driver.findElement(By.id("open-streams")).getText()).isEqualTo("0 open streams");

        WebElement tenant = visible(By.cssSelector("#tenants tr[data-tenant-id='" + tenantId + "']"));
        assertThat(tenant.getText()).contains("Acme Corp").contains("enabled").contains("600 req/min")
                .contains("200k tok/min").contains("32 streams").contains("rpm 0/600");
        WebElement request = visible(By.cssSelector("#requests tr[data-request-id='req-" + run + "']"));
        assertThat(request.getText()).contains(tenantId).contains("tiny-" + run).contains(instanceId).contains("200")
                .contains("48 / 120");
        assertThat(request.findElement(By.cssSelector("td.ttft")).getText()).as("measured on a stream").matches(
                "\\d+(\\.\\d+)? m?s");
        assertThat(((JavascriptExecutor) driver).executeScript(
                "return sessionStorage.getItem('kvserve.status.operatorToken')")).isEqualTo(TOKEN);
        screenshot("status-page.png");

        // it refreshes by itself: the next heartbeat's numbers show without a reload
        register(5, 0, 0.95);
        new WebDriverWait(driver, WAIT).until(d -> cell(d.findElement(By.cssSelector(
                "#instances tr[data-instance-id='" + instanceId + "']")), "running").equals("5"));
        assertThat(cell(driver.findElement(By.cssSelector("#instances tr[data-instance-id='" + instanceId + "']")),
                "kv")).isEqualTo("95%");

        // a token that stops working (rotated) sends the page back to the login form, with why
        ((JavascriptExecutor) driver).executeScript(
                "sessionStorage.setItem('kvserve.status.operatorToken', 'rotated-away')");
        WebElement refused = visible(By.id("login-error"));
        assertThat(refused.getText()).contains("401");
        assertThat(driver.findElement(By.id("dashboard")).isDisplayed()).isFalse();
        assertThat(((JavascriptExecutor) driver).executeScript(
                "return sessionStorage.getItem('kvserve.status.operatorToken')")).isNull();
    }
}
