package dev.fanout.benchmarks.report;

import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.BitmapEncoder.BitmapFormat;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.Styler.LegendPosition;

/** The report's two PNG charts, drawn with XChart (headless). */
public final class Charts {
  /** File name of the scenarios' speed-up chart. */
  public static final String SPEED_UPS = "speedups.png";

  /** File name of the peers chart. */
  public static final String PEERS = "peers.png";

  private Charts() {}

  /**
   * Writes the charts this report has data for into {@code directory}.
   *
   * @return the files written
   */
  public static List<Path> write(Report report, Path directory) throws IOException {
    System.setProperty("java.awt.headless", "true");
    List<Path> written = new ArrayList<>();
    List<Report.Comparison> scenarios = report.scenarios();
    if (!scenarios.isEmpty()) {
      CategoryChart chart =
          new CategoryChartBuilder()
              .width(1200)
              .height(700)
              .title("Speed-up over the sequential baseline (×, higher is better)")
              .yAxisTitle("×")
              .build();
      style(chart);
      chart.getStyler().setLegendVisible(false);
      chart.getStyler().setXAxisLabelRotation(45);
      chart.addSeries(
          "speed-up",
          scenarios.stream().map(Report.Comparison::shortLabel).toList(),
          scenarios.stream().map(Report.Comparison::speedUp).toList());
      written.add(save(chart, directory.resolve(SPEED_UPS)));
    }
    Map<String, Map<String, Row>> peers = report.peers();
    Map<String, Row> pool = peers.get("fanout");
    if (pool != null && peers.size() > 1) {
      Set<String> works = new LinkedHashSet<>(pool.keySet());
      List<String> titles = works.stream().map(Report.PEER_WORKS::get).toList();
      CategoryChart chart =
          new CategoryChartBuilder()
              .width(1200)
              .height(600)
              .title("Time of the same fan-out over fanout's (lower is better)")
              .yAxisTitle("× fanout's time")
              .build();
      style(chart);
      chart.getStyler().setLegendPosition(LegendPosition.OutsideE);
      chart.getStyler().setDecimalPattern("0.00");
      for (var entry : peers.entrySet()) {
        if (entry.getKey().equals("sequential")) {
          continue; // 10x off the scale; the scenarios chart shows it
        }
        List<Double> ratios = new ArrayList<>();
        for (String work : works) {
          Row row = entry.getValue().get(work);
          ratios.add(row == null ? null : row.score() / pool.get(work).score());
        }
        chart.addSeries(entry.getKey(), titles, ratios);
      }
      written.add(save(chart, directory.resolve(PEERS)));
    }
    return written;
  }

  private static void style(CategoryChart chart) {
    chart.getStyler().setChartBackgroundColor(Color.WHITE);
    chart.getStyler().setPlotGridVerticalLinesVisible(false);
    chart.getStyler().setLabelsVisible(true);
    chart.getStyler().setLabelsFontColorAutomaticEnabled(false);
    chart.getStyler().setLabelsFontColor(Color.DARK_GRAY);
    chart.getStyler().setDecimalPattern("#,##0.0");
  }

  private static Path save(CategoryChart chart, Path file) throws IOException {
    BitmapEncoder.saveBitmap(chart, file.toString(), BitmapFormat.PNG);
    return file;
  }
}
