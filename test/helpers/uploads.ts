/**
 * A container's uploads as the provider's own output type, checked: every upload these tests read
 * is a text file, so each must carry `content` as a string (not `contentBase64` or `source`). A
 * different shape fails with the file's name instead of passing through a cast.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { ContainerUpload } from "@pulumi/docker/types/output";
import { valueOf } from "./mocks";

export type TextUpload = ContainerUpload & { content: string };

export async function textUploads(uploads: pulumi.Output<ContainerUpload[] | undefined>): Promise<TextUpload[]> {
    return ((await valueOf(uploads)) ?? []).map((u) => {
        const { content } = u;
        if (typeof content !== "string")
            throw new Error(`upload ${u.file}: expected text content, got ${JSON.stringify(content)}`);
        return { ...u, content };
    });
}
