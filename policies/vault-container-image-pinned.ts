import type { ResourceValidationPolicy } from "@pulumi/policy";
import { TYPES, imageRepo, isVaultContainer, str } from "./lib/common";

const DIGEST = /@sha256:[a-f0-9]{64}$/;
const IMAGE_ID = /^sha256:[a-f0-9]{64}$/;
const EXACT_TAG = /:v?\d+\.\d+\.\d+(-[0-9A-Za-z.]+)?$/;
const VAULT_REPO = /(^|\/)(vault|openbao)$/;

/** Pinned: an image id, a digest, or an exact version tag (`1.21.1`); never `latest`, none, or `1.21`. */
export function isPinnedImage(image: string): boolean {
    if (IMAGE_ID.test(image) || DIGEST.test(image)) return true;
    const lastSegment = image.slice(image.lastIndexOf("/") + 1);
    return lastSegment.includes(":") && EXACT_TAG.test(image) && !/:latest$/.test(image);
}

/**
 * A restart must never change the Vault binary under the same configuration: a floating tag moves
 * under you and a compromised registry tag is pulled silently.
 *
 * One-field changes that would undo the same protection, each covered here: `latest`, no tag, a
 * floating tag (`1.21`, `1`), a digest replaced by a tag; the same on the RemoteImage the container
 * runs (`name`). An exact tag can still be re-pushed: prod should pin a digest (not enforced: the
 * committed stacks use the image id the RemoteImage resolves).
 */
export const vaultContainerImagePinned: ResourceValidationPolicy = {
    name: "vault-container-image-pinned",
    description: "Vault containers and Vault/OpenBao images are pinned by digest or an exact version tag.",
    enforcementLevel: "mandatory",
    severity: "high",
    tags: ["vault", "supply-chain"],
    remediationSteps:
        "Set `bonito-vault:image` to `repo@sha256:<digest>` or `repo:<major>.<minor>.<patch>`; `latest`, no tag and floating tags such as `1.21` are refused.",
    validateResource: (args, report) => {
        if (args.type === TYPES.container && isVaultContainer(args.props)) {
            const image = str(args.props.image) ?? "";
            if (!isPinnedImage(image))
                report(
                    `Vault container image "${image}" is not pinned; use a digest (@sha256:…) or an exact version tag (:1.21.1).`,
                );
        } else if (args.type === TYPES.remoteImage) {
            const name = str(args.props.name) ?? "";
            if (VAULT_REPO.test(imageRepo(name) ?? "") && !isPinnedImage(name))
                report(
                    `Vault image "${name}" is not pinned; use a digest (@sha256:…) or an exact version tag (:1.21.1).`,
                );
        }
    },
};
