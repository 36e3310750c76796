/**
 * AWS adapters for fanout: multi-account EKS scans with kubeconfig entries, and customer recipient
 * aggregation over SES v2, on the AWS SDK for Java v2.
 */
module dev.fanout.aws {
  requires transitive dev.fanout.core;
  requires static org.jspecify;

  requires transitive software.amazon.awssdk.auth;
  requires transitive software.amazon.awssdk.awscore;
  requires transitive software.amazon.awssdk.core;
  requires transitive software.amazon.awssdk.http;
  requires transitive software.amazon.awssdk.regions;
  requires transitive software.amazon.awssdk.services.eks;
  requires transitive software.amazon.awssdk.services.organizations;
  requires transitive software.amazon.awssdk.services.sesv2;
  requires transitive software.amazon.awssdk.services.sso;
  requires transitive software.amazon.awssdk.services.sts;
  requires software.amazon.awssdk.http.apache;
  requires software.amazon.awssdk.identity.spi;
  requires software.amazon.awssdk.retries.api;
  requires software.amazon.awssdk.utils;
  requires org.yaml.snakeyaml;

  exports dev.fanout.aws;
}
