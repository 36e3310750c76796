package dev.fanout.aws;

import org.jspecify.annotations.Nullable;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.NodeId;
import org.yaml.snakeyaml.nodes.Tag;
import org.yaml.snakeyaml.representer.Representer;
import org.yaml.snakeyaml.resolver.Resolver;

/**
 * YAML (and so JSON) through SnakeYAML's safe constructor: plain maps, lists and scalars, no
 * arbitrary types. Loading keeps timestamps as the strings they were written as, so a file
 * read and written again does not change the entries it was not asked to change. Error messages
 * give line, column and problem only, never the text around it, which may hold a token.
 */
final class YamlSupport {
  private YamlSupport() {}

  /** Resolves what would be a timestamp as a string; everything else as YAML 1.1 does. */
  private static final class KeepTimestamps extends Resolver {
    @Override
    public Tag resolve(NodeId kind, @Nullable String value, boolean implicit) {
      Tag tag = super.resolve(kind, value, implicit);
      return Tag.TIMESTAMP.equals(tag) ? Tag.STR : tag;
    }
  }

  private static LoaderOptions loaderOptions() {
    LoaderOptions options = new LoaderOptions();
    options.setAllowDuplicateKeys(false);
    options.setMaxAliasesForCollections(50);
    options.setNestingDepthLimit(50);
    options.setCodePointLimit(16 * 1024 * 1024);
    return options;
  }

  private static DumperOptions dumperOptions() {
    DumperOptions options = new DumperOptions();
    options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
    options.setIndent(2);
    options.setSplitLines(false);
    options.setWidth(Integer.MAX_VALUE);
    return options;
  }

  /**
   * Parses one YAML or JSON document into maps, lists and scalars; {@code null} for an empty one.
   *
   * @throws IllegalArgumentException if it is not well-formed, saying where (line and column)
   */
  static @Nullable Object load(String text, String what) {
    LoaderOptions loader = loaderOptions();
    DumperOptions dumper = dumperOptions();
    Yaml yaml =
        new Yaml(
            new SafeConstructor(loader), new Representer(dumper), dumper, loader, new KeepTimestamps());
    try {
      return yaml.load(text);
    } catch (MarkedYAMLException e) {
      Mark mark = e.getProblemMark();
      String where = mark == null ? "" : " at line " + (mark.getLine() + 1) + ", column " + (mark.getColumn() + 1);
      throw new IllegalArgumentException(
          what + " is not valid YAML" + where + ": " + e.getProblem());
    } catch (YAMLException e) {
      throw new IllegalArgumentException(what + " is not valid YAML: " + e.getClass().getSimpleName());
    }
  }

  /** Writes maps, lists and scalars as block-style YAML. */
  static String dump(Object document) {
    DumperOptions dumper = dumperOptions();
    return new Yaml(new SafeConstructor(loaderOptions()), new Representer(dumper), dumper)
        .dump(document);
  }
}
