package io.kvserve.cli.benchserving.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import javax.imageio.ImageIO;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.XYStyler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The report's PNGs, drawn with XChart as the simulator's are:
 * <ul>
 *   <li>{@code latency-cdf.png}: two panels side by side, the CDF of TTFT (left) and of E2E latency
 *       (right), one line per run; the x axis is logarithmic when a panel's values span more than
 *       {@link #LOG_AXIS_SPREAD}x (a saturated run's tail beside an idle run's body).</li>
 *   <li>{@code throughput-vs-rate.png}: against the offered load, output tok/s (left panel) and
 *       completed and goodput req/s (right panel; apart, since with a fixed output length req/s is
 *       tok/s scaled and the lines would lie on each other), one line per workload; a row of panels
 *       for open-loop runs (x: request rate) and one for closed-loop runs (x: concurrency), each only
 *       when at least two of its runs differ in load. Runs at {@code inf} req/s have no place on the
 *       x axis and are left out.</li>
 * </ul>
 */
final class ReportCharts {

    static final int PANEL_WIDTH_PIXELS = 700;
    static final int PANEL_HEIGHT_PIXELS = 500;
    static final double LOG_AXIS_SPREAD = 20;

    /** Tableau 10: distinct on white, the order matplotlib readers know. */
    private static final Color[] PALETTE = {new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c),
            new Color(0xd62728), new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f),
            new Color(0xbcbd22), new Color(0x17becf)};

    private static final BasicStroke DASHED = new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f,
            new float[] {6f, 4f}, 0f);

    private ReportCharts() {
    }

    /** Writes latency-cdf.png; false (and no file) when no run has a successful request. */
    static boolean writeLatencyCdf(List<ServingRun> runs, Path file) throws IOException {
        XYChart ttft = cdfPanel("TTFT CDF", "time to first token (ms)", runs, ServingRun.Request::ttftMs);
        XYChart e2e = cdfPanel("E2E latency CDF", "end-to-end latency (ms)", runs, ServingRun.Request::e2eMs);
        if (ttft.getSeriesMap().isEmpty() && e2e.getSeriesMap().isEmpty()) {
            return false;
        }
        writePanels(List.of(List.of(ttft, e2e)), file);
        return true;
    }

    /** Writes throughput-vs-rate.png; false (and no file) when no runs differ in offered load. */
    static boolean writeThroughputVsLoad(List<ServingRun> runs, Path file) throws IOException {
        List<List<XYChart>> rows = new ArrayList<>();
        for (LoadCurve.Axis axis : LoadCurve.Axis.values()) {
            List<LoadCurve> curves = LoadCurve.of(runs, axis);
            if (!curves.isEmpty()) {
                rows.add(List.of(tokensPanel(axis, curves), requestsPanel(axis, curves)));
            }
        }
        if (rows.isEmpty()) {
            return false;
        }
        writePanels(rows, file);
        return true;
    }

    /** Whether a panel with these latencies gets a log x axis. */
    static boolean wantsLogAxis(List<LatencyCdf> cdfs) {
        double min = Double.POSITIVE_INFINITY;
        double max = 0;
        for (LatencyCdf cdf : cdfs) {
            for (LatencyCdf.Point p : cdf.points()) {
                if (p.latencyMs() > 0) {
                    min = Math.min(min, p.latencyMs());
                    max = Math.max(max, p.latencyMs());
                }
            }
        }
        return max > 0 && max / min > LOG_AXIS_SPREAD;
    }

    private static XYChart cdfPanel(String title, String xTitle, List<ServingRun> runs,
                                    ToDoubleFunction<ServingRun.Request> latencyMs) {
        Map<String, LatencyCdf> cdfs = new LinkedHashMap<>();
        runs.forEach(r -> cdfs.put(r.label(), LatencyCdf.of(r, latencyMs)));
        boolean log = wantsLogAxis(List.copyOf(cdfs.values()));
        XYChart chart = new XYChartBuilder().width(PANEL_WIDTH_PIXELS).height(PANEL_HEIGHT_PIXELS)
                .title(title + (log ? " (log x)" : "")).xAxisTitle(xTitle).yAxisTitle("share of requests").build();
        style(chart);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideSE);
        chart.getStyler().setYAxisMin(0.0).setYAxisMax(1.0).setYAxisDecimalPattern("0.0");
        chart.getStyler().setXAxisLogarithmic(log);
        chart.getStyler().setXAxisDecimalPattern(log ? "#,##0.#" : "#,##0.##");
        cdfs.forEach((label, cdf) -> {
            List<LatencyCdf.Point> points = log ? cdf.points().stream().filter(p -> p.latencyMs() > 0).toList() : cdf.points();
            if (!points.isEmpty()) {
                XYSeries s = chart.addSeries(label + " (n=" + cdf.numValues() + ")",
                        points.stream().mapToDouble(LatencyCdf.Point::latencyMs).toArray(),
                        points.stream().mapToDouble(LatencyCdf.Point::fraction).toArray());
                s.setMarker(SeriesMarkers.NONE);
            }
        });
        return chart;
    }

    private static XYChart tokensPanel(LoadCurve.Axis axis, List<LoadCurve> curves) {
        XYChart chart = loadChart("Output token throughput vs " + axis.noun, axis, "output tokens/s");
        for (int i = 0; i < curves.size(); i++) {
            LoadCurve c = curves.get(i);
            colored(chart.addSeries(seriesName("output tok/s", c, curves), c.loads(), c.outputTokensPerSecond()), i)
                    .setMarker(SeriesMarkers.CIRCLE);
        }
        return chart;
    }

    /** Completed req/s solid, goodput req/s dashed, in the workload's color (as in the tokens panel). */
    private static XYChart requestsPanel(LoadCurve.Axis axis, List<LoadCurve> curves) {
        boolean goodput = curves.stream().anyMatch(LoadCurve::hasGoodput);
        XYChart chart = loadChart((goodput ? "Completed and goodput requests/s" : "Completed requests/s") + " vs " + axis.noun,
                axis, "requests/s");
        if (axis == LoadCurve.Axis.REQUEST_RATE) {
            double[] offered = curves.stream().flatMapToDouble(c -> Arrays.stream(c.loads())).distinct().sorted().toArray();
            XYSeries line = chart.addSeries("offered (y = x)", offered, offered);
            line.setMarker(SeriesMarkers.NONE);
            line.setLineColor(Color.GRAY);
            line.setLineStyle(DASHED);
        }
        for (int i = 0; i < curves.size(); i++) {
            LoadCurve c = curves.get(i);
            colored(chart.addSeries(seriesName("completed req/s", c, curves), c.loads(), c.requestsPerSecond()), i)
                    .setMarker(SeriesMarkers.SQUARE);
            if (c.hasGoodput()) {
                XYSeries g = colored(chart.addSeries(seriesName("goodput req/s", c, curves), c.loads(), c.goodputRequestsPerSecond()), i);
                g.setMarker(SeriesMarkers.DIAMOND);
                g.setLineStyle(DASHED);
            }
        }
        return chart;
    }

    private static XYSeries colored(XYSeries series, int index) {
        Color color = PALETTE[index % PALETTE.length];
        series.setLineColor(color);
        series.setMarkerColor(color);
        return series;
    }

    private static XYChart loadChart(String title, LoadCurve.Axis axis, String yTitle) {
        XYChart chart = new XYChartBuilder().width(PANEL_WIDTH_PIXELS).height(PANEL_HEIGHT_PIXELS)
                .title(title).xAxisTitle(axis.title).yAxisTitle(yTitle).build();
        style(chart);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
        chart.getStyler().setYAxisMin(0.0);
        chart.getStyler().setXAxisDecimalPattern("#,##0.##");
        return chart;
    }

    /** The metric, and the workload when the panel has several. */
    private static String seriesName(String metric, LoadCurve c, List<LoadCurve> curves) {
        return curves.size() > 1 ? metric + " · " + c.name() : metric;
    }

    private static void style(XYChart chart) {
        XYStyler styler = chart.getStyler();
        styler.setLocale(Locale.ROOT);
        styler.setChartBackgroundColor(Color.WHITE);
        styler.setPlotBackgroundColor(Color.WHITE);
        styler.setLegendBorderColor(Color.LIGHT_GRAY);
        styler.setPlotGridLinesColor(new Color(225, 225, 225));
        styler.setMarkerSize(7);
        styler.setSeriesColors(PALETTE);
    }

    /** The panels in one PNG: each row's panels side by side, rows one under another. */
    private static void writePanels(List<List<XYChart>> rows, Path file) throws IOException {
        int numColumns = rows.stream().mapToInt(List::size).max().orElse(1);
        BufferedImage image = new BufferedImage(PANEL_WIDTH_PIXELS * numColumns, PANEL_HEIGHT_PIXELS * rows.size(), BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, image.getWidth(), image.getHeight());
            for (int row = 0; row < rows.size(); row++) {
                for (int column = 0; column < rows.get(row).size(); column++) {
                    g.drawImage(BitmapEncoder.getBufferedImage(rows.get(row).get(column)), column * PANEL_WIDTH_PIXELS, row * PANEL_HEIGHT_PIXELS, null);
                }
            }
        } finally {
            g.dispose();
        }
        if (!ImageIO.write(image, "png", file.toFile())) {
            throw new IOException("no PNG writer for " + file);
        }
    }
}
