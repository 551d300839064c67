#!/usr/bin/env node
/**
 * The custody CDK app: the forensic account stack, the Security Hub account stack and the
 * responder role template, configured from context (README.md lists the keys).
 *
 * The functions' code is the `custody-lambda` bootstrap zip built by `scripts/build-lambda`
 * (context `lambdaAsset`, default `../target/lambda/custody-lambda/bootstrap.zip`). Without it the
 * app refuses to synthesize: deploying a placeholder would look like a working responder and do
 * nothing when it is needed. It also refuses a zip whose `bootstrap` is not an ELF executable for
 * the functions' architecture (context `lambdaArchitecture`, arm64 unless x86_64).
 */
import * as fs from 'fs';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { ConfigError, readConfig } from '../lib/config';
import { AssetError, assetArchitecture } from '../lib/lambda-asset';
import { ForensicStack } from '../lib/forensic-stack';
import { ResponderStack } from '../lib/responder-stack';
import { SecurityHubStack } from '../lib/securityhub-stack';
import { loadStepActions } from '../lib/steps';

/** The default asset location, relative to cdk/. */
const DEFAULT_ASSET = path.join('..', 'target', 'lambda', 'custody-lambda', 'bootstrap.zip');

function main(): void {
  const app = new App();
  const config = readConfig((key) => app.node.tryGetContext(key));
  const asset = path.resolve(String(app.node.tryGetContext('lambdaAsset') ?? DEFAULT_ASSET));
  if (!fs.existsSync(asset) || !fs.statSync(asset).isFile()) {
    throw new ConfigError(
      'lambdaAsset',
      `the custody-lambda bootstrap ${asset} does not exist: build it with scripts/build-lambda ` +
        '(scripts/build-lambda --profile release --arch arm64), or pass -c lambdaAsset=PATH',
    );
  }
  let built: string;
  try {
    built = assetArchitecture(asset);
  } catch (e) {
    if (e instanceof AssetError) throw new ConfigError('lambdaAsset', `${e.message}: build it with scripts/build-lambda`);
    throw e;
  }
  if (built !== config.lambdaArchitecture) {
    throw new ConfigError(
      'lambdaAsset',
      `${asset} is built for ${built} but the functions are ${config.lambdaArchitecture} (context lambdaArchitecture): ` +
        `rebuild with scripts/build-lambda --arch ${config.lambdaArchitecture}, or set -c lambdaArchitecture=${built}`,
    );
  }
  const steps = loadStepActions();
  const prefix = config.namePrefix;
  const pascalPrefix = prefix.charAt(0).toUpperCase() + prefix.slice(1).replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
  new ForensicStack(app, `${pascalPrefix}Forensic`, {
    env: { account: config.forensicAccount, region: config.forensicRegion },
    config,
    steps,
    lambdaAsset: asset,
  });
  new SecurityHubStack(app, `${pascalPrefix}SecurityHub`, {
    env: { account: config.securityHubAccount, region: config.securityHubRegion },
    config,
  });
  new ResponderStack(app, `${pascalPrefix}Responder`, {
    config,
    steps,
  });
  app.synth();
}

try {
  main();
} catch (e) {
  if (e instanceof ConfigError) {
    process.stderr.write(`custody cdk: ${e.message}\n`);
    process.exit(1);
  }
  throw e;
}
