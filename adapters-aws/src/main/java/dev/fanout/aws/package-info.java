/**
 * fanout on the AWS SDK for Java v2: multi-account EKS scans ({@link dev.fanout.aws.AccountScanner},
 * with kubeconfig entries written by {@link dev.fanout.aws.KubeconfigWriter}) and customer
 * recipient aggregation over SES v2 contact lists ({@link dev.fanout.aws.RecipientAggregator}).
 *
 * <p>Every AWS call made here goes through one path: the rate gate of its
 * {@link dev.fanout.aws.ThrottleScope} (account, region, service), then the caller's
 * {@link dev.fanout.retry.RetryPolicy}, with the services' throttling errors mapped to the policy's
 * throttling class ({@link dev.fanout.aws.AwsThrottledException}). The SDK's own retries are
 * switched off by {@link dev.fanout.aws.AwsClients}, so attempts are never multiplied.
 *
 * <p>Credentials, session tokens and SSO access tokens never appear in a log line or an exception
 * message of this package.
 */
@NullMarked
package dev.fanout.aws;

import org.jspecify.annotations.NullMarked;
