package dev.quanta.runner;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** The latency distribution of each engine as a PNG: milliseconds against percentile. */
final class LatencyPlot {

    private LatencyPlot() {}

    static void write(Path file, String title, Map<String, Latencies> engines) throws IOException {
        System.setProperty("java.awt.headless", "true");
        XYChart chart = new XYChartBuilder().width(900).height(540).title(title + ": latency distribution")
                .xAxisTitle("percentile of runs").yAxisTitle("ms per run").build();
        chart.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.InsideNW);
        for (Latencies latencies : engines.values()) {
            double[] millis = latencies.millis();
            double[] percentiles = new double[millis.length];
            for (int i = 0; i < millis.length; i++) {
                percentiles[i] = 100.0 * (i + 1) / millis.length;
            }
            chart.addSeries(latencies.engine(), percentiles, millis).setMarker(SeriesMarkers.NONE);
        }
        String name = file.toString();
        String base = name.toLowerCase(java.util.Locale.ROOT).endsWith(".png") ? name.substring(0, name.length() - 4) : name;
        BitmapEncoder.saveBitmap(chart, base, BitmapEncoder.BitmapFormat.PNG);
    }
}
